"""Lexical evidence: the codebook's cues matched on lemmas with spaCy's matchers.

A code's cues are its terms (phrases matched on lemmas), its weak terms (common words
that support the code without carrying it) and its token patterns (spaCy ``Matcher``
patterns over lemmas). For one segment, :meth:`LexicalCoder.match` returns each code's
hits: the non-overlapping cue occurrences (the longest where two overlap; a weak term
inside a term counts once, as the term) that no exclusion cue covers. A hit has a
weight: 1 for a term or pattern, ``weak_weight`` for a weak term; a cue right after a
negation ("no", "not", "without", within three words, and not part of the cue)
counts as a weak one, and a weak one after a negation counts nothing. A code whose
every occurrence was excluded or negated away comes back with no hits, which blocks
its semantic evidence in that segment too ("speech recognition" is not about the
recognition of credentials).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

from litthemes.codebook import Code, Codebook
from litthemes.config import ConfigError
from litthemes.segment import lemma_string

# A cue occurrence: the cue as the codebook writes it (a term; a pattern's match as
# lemmas), and how much it counts.
CueHit = tuple[str, float]

NEGATORS = frozenset({"no", "not", "never", "without", "nor", "neither", "hardly", "barely"})
NEGATION_WINDOW = 3


def _lemma_doc(nlp: Language, lemmas: str) -> Doc:
    words = lemmas.split()
    return Doc(nlp.vocab, words=words, lemmas=words)


@dataclass
class _Matchers:
    terms: PhraseMatcher
    weak_terms: PhraseMatcher
    patterns: Matcher
    exclude_terms: PhraseMatcher
    exclude_patterns: Matcher


def _yaml_word(value: Any) -> str:
    # YAML 1.1 reads bare no/yes/on/off as booleans; in a cue list they were words.
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _pattern_words(patterns: list[list[dict[str, Any]]]) -> set[str]:
    words: set[str] = set()
    for pattern in patterns:
        for token in pattern:
            value = token.get("LEMMA")
            if isinstance(value, str):
                words.add(value)
            elif isinstance(value, dict):
                for items in value.values():
                    if isinstance(items, list):
                        words.update(_yaml_word(v) for v in items)
    return words


def _lemma_pattern(pattern: list[dict[str, Any]], lemma_of: dict[str, str]) -> list[dict[str, Any]]:
    """Write LEMMA values as the pipeline lemmatises them, so users can write plain words."""
    out = []
    for token in pattern:
        token = dict(token)
        value = token.get("LEMMA")
        if isinstance(value, str):
            token["LEMMA"] = lemma_of.get(value, value.lower())
        elif isinstance(value, dict):
            token["LEMMA"] = {
                op: sorted({lemma_of.get(_yaml_word(v), _yaml_word(v).lower()) for v in items})
                if isinstance(items, list)
                else items
                for op, items in value.items()
            }
        out.append(token)
    return out


def lexical_fingerprint(code: Code) -> str:
    """What a code's lexical matches depend on besides the lemmas: its id and cues, nothing else."""
    cues = {"id": code.id, "include": code.include.model_dump(), "exclude": code.exclude.model_dump()}
    return hashlib.sha1(json.dumps(cues, sort_keys=True, default=str).encode("utf-8")).hexdigest()


class LexicalCoder:
    """spaCy PhraseMatchers and Matchers over lemmas, one set of keys per code.

    A code's hits depend on its own cues only, so a coder built for some codes finds
    for them exactly what a coder for the whole codebook finds.
    """

    def __init__(self, codes: Codebook | Sequence[Code], nlp: Language, weak_weight: float = 0.5) -> None:
        self.nlp = nlp
        self.weak_weight = weak_weight
        self.codes = list(codes.codes if isinstance(codes, Codebook) else codes)
        self.matchers = _Matchers(
            PhraseMatcher(nlp.vocab, attr="LEMMA"),
            PhraseMatcher(nlp.vocab, attr="LEMMA"),
            Matcher(nlp.vocab),
            PhraseMatcher(nlp.vocab, attr="LEMMA"),
            Matcher(nlp.vocab),
        )
        words = {t for c in self.codes for t in (*c.include.terms, *c.include.weak_terms, *c.exclude.terms)}
        for c in self.codes:
            words |= _pattern_words(c.include.patterns) | _pattern_words(c.exclude.patterns)
        ordered = sorted(words)
        lemma_of = dict(zip(ordered, [lemma_string(doc) for doc in nlp.pipe(ordered)], strict=True))
        # A hit names the term as the codebook writes it ("higher education"), not its
        # lemmas ("high education"); of two terms with the same lemmas, the first.
        self._written: dict[tuple[str, str], str] = {}
        for code in self.codes:
            for term in (*code.include.terms, *code.include.weak_terms):
                self._written.setdefault((code.id, lemma_of[term]), term)
        for code in self.codes:
            self._add_terms(code.id, code.include.terms, lemma_of, self.matchers.terms)
            self._add_terms(code.id, code.include.weak_terms, lemma_of, self.matchers.weak_terms)
            self._add_patterns(code.id, code.include.patterns, lemma_of, self.matchers.patterns)
            self._add_terms(code.id, code.exclude.terms, lemma_of, self.matchers.exclude_terms)
            self._add_patterns(code.id, code.exclude.patterns, lemma_of, self.matchers.exclude_patterns)
        self.requirements = _requirements(self.codes, lemma_of)
        # Each cue under one word it needs (from its first clause): a segment's words then
        # point straight at the few cues worth checking.
        self._cues_by_word: dict[str, list[list[frozenset[str]]]] = {}
        for clauses in self.requirements or []:
            for word in clauses[0]:
                self._cues_by_word.setdefault(word, []).append(clauses)

    def _add_terms(self, key: str, terms: list[str], lemma_of: dict[str, str], matcher: PhraseMatcher) -> None:
        docs = [_lemma_doc(self.nlp, lemma_of[t]) for t in terms if lemma_of[t].strip()]
        if docs:
            matcher.add(key, docs)

    def _add_patterns(
        self, key: str, patterns: list[list[dict[str, Any]]], lemma_of: dict[str, str], matcher: Matcher
    ) -> None:
        lowered = [_lemma_pattern(pattern, lemma_of) for pattern in patterns]
        if lowered:
            try:
                matcher.add(key, lowered)
            except ValueError as exc:  # spaCy's MatchPatternError
                raise ConfigError(f"codebook code {key!r}: invalid token pattern: {exc}") from None

    def may_match(self, lemmas: str) -> bool:
        """False only when no inclusion cue can match: each cue lacks a word it needs."""
        if self.requirements is None:
            return True
        words = set(lemmas.split())
        return any(
            all(not clause.isdisjoint(words) for clause in clauses[1:])
            for word in words.intersection(self._cues_by_word)
            for clauses in self._cues_by_word[word]
        )

    def _spans(self, matcher: PhraseMatcher | Matcher, doc: Doc) -> dict[str, list[tuple[int, int]]]:
        found: dict[str, list[tuple[int, int]]] = {}
        # An empty matcher warns on every call; skip it instead.
        if len(matcher):
            strings = self.nlp.vocab.strings
            for match_id, start, end in matcher(doc):
                found.setdefault(strings[match_id], []).append((start, end))
        return found

    def match(self, lemmas: str) -> dict[str, list[CueHit]]:
        """code id -> its hits in this segment (see module doc); [] where every hit was
        excluded or negated away; codes without any cue occurrence are absent."""
        if not self.may_match(lemmas):
            return {}
        doc = _lemma_doc(self.nlp, lemmas)
        strong = self._spans(self.matchers.terms, doc)
        for key, spans in self._spans(self.matchers.patterns, doc).items():
            strong.setdefault(key, []).extend(spans)
        weak = self._spans(self.matchers.weak_terms, doc)
        if not strong and not weak:
            return {}
        blocked = self._spans(self.matchers.exclude_terms, doc)
        for key, spans in self._spans(self.matchers.exclude_patterns, doc).items():
            blocked.setdefault(key, []).extend(spans)
        words = lemmas.split()
        result: dict[str, list[CueHit]] = {}
        for code_id in sorted(set(strong) | set(weak)):
            stops = blocked.get(code_id, [])
            candidates = [(s, e, 1.0) for s, e in strong.get(code_id, [])]
            candidates += [(s, e, self.weak_weight) for s, e in weak.get(code_id, [])]
            # Longest first where occurrences overlap, a term before a weak term of the same span.
            chosen: list[tuple[int, int, float]] = []
            for start, end, weight in sorted(set(candidates), key=lambda h: (h[0], h[0] - h[1], -h[2])):
                if chosen and start < chosen[-1][1]:
                    continue
                chosen.append((start, end, weight))
            hits: list[CueHit] = []
            for start, end, weight in chosen:
                if any(start < e and s < end for s, e in stops):
                    continue
                if _negated(words, start):
                    weight = self.weak_weight if weight >= 1.0 else 0.0
                if weight > 0:
                    matched = doc[start:end].text
                    hits.append((self._written.get((code_id, matched), matched), weight))
            result[code_id] = hits
        return result

    def match_all(self, lemmas: Sequence[str]) -> list[dict[str, list[CueHit]]]:
        """:meth:`match` for each lemma string."""
        return [self.match(text or "") for text in lemmas]


def _negated(words: list[str], start: int) -> bool:
    """Whether a negation stands within NEGATION_WINDOW words before ``start`` ('not only' is none)."""
    for position in range(max(0, start - NEGATION_WINDOW), start):
        if words[position] in NEGATORS and not (position + 1 < len(words) and words[position + 1] == "only"):
            return True
    return False


def cue_mass(hits: Sequence[CueHit]) -> float:
    """The lexical evidence of a segment for a code: its hits' weights, summed."""
    return float(sum(weight for _, weight in hits))


def strong_mass(hits: Sequence[CueHit]) -> float:
    """The hits that count fully (terms and patterns not under a negation), summed."""
    return float(sum(weight for _, weight in hits if weight >= 1.0))


def _requirements(codes: Sequence[Code], lemma_of: dict[str, str]) -> list[list[frozenset[str]]] | None:
    """What each inclusion cue needs of a segment's words, or None if some cue needs none.

    A cue's requirement is a list of clauses: the segment must hold a word of each. A
    term needs every one of its words; a token pattern needs, for each token that must
    occur and names its lemmas, one of those lemmas. Building a spaCy Doc and running
    the matchers costs far more than this test, and it rules out most segments: after a
    codebook edit, when one code is matched over the whole corpus, all but a few hundred.
    """
    cues: list[list[frozenset[str]]] = []
    for code in codes:
        for term in (*code.include.terms, *code.include.weak_terms):
            words = lemma_of[term].split()
            if words:
                cues.append([frozenset([word]) for word in dict.fromkeys(words)])
        for pattern in code.include.patterns:
            clauses = [
                frozenset(_lemma_words(token))
                for token in _lemma_pattern(pattern, lemma_of)
                if _required(token.get("OP")) and _lemma_words(token)
            ]
            if not clauses:
                return None
            cues.append(clauses)
    return cues


def _required(op: Any) -> bool:
    """Whether a token with this spaCy quantifier must occur at least once."""
    if op is None or op == "+":
        return True
    bounds = re.fullmatch(r"\{(\d+)(,\d*)?\}", str(op))
    return bounds is not None and int(bounds.group(1)) >= 1


def _lemma_words(token: dict[str, Any]) -> set[str]:
    value = token.get("LEMMA")
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict) and set(value) == {"IN"} and isinstance(value["IN"], list):
        return {str(v) for v in value["IN"]}
    return set()
