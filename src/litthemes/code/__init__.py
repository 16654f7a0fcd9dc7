"""Code stage: deductive coding of segments and records with the codebook.

Each segment gets, for each code,
- ``lexical``: 1.0 when an inclusion cue (term or token pattern, matched on lemmas)
  occurs and is not covered by an exclusion cue, else 0.0;
- ``semantic``: how much closer the segment's embedding is to the code's closest
  prototype (its definition or an example) than to the closest of the codebook's
  ``background`` texts, divided by ``semantic_scale`` and clipped to [0, 1]. The
  contrast matters because every prototype of a one-topic codebook is close to any
  text on that topic: a title that only says "digital badges" is similar to all
  themes, and is about none of them;
- ``score`` = ``lexical_weight`` * lexical + (1 - ``lexical_weight``) * semantic,
  which lies in [0, 1] for every code, so scores are comparable across codes.

A segment carries a code (``present``) when it has a lexical cue and its score
reaches ``present_threshold``, or, without a cue, when the code is the segment's
semantically closest one, its rescaled contrast reaches ``semantic_threshold`` and
its raw similarity reaches ``semantic_min_similarity``. A record carries a code when one of its segments does;
its score is the best segment's score.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

from litthemes.codebook import Code, Codebook
from litthemes.config import CodeSettings, ConfigError, EmbedSettings
from litthemes.embed import row_dot
from litthemes.nlp import lemma_string, load_pipeline
from litthemes.tables import CODES, EVIDENCE, SEGMENT_CODES

log = logging.getLogger(__name__)

# Rows of segment_codes below this score carry no evidence and are not stored.
STORE_MIN_SCORE = 0.25
TOP_THEMES_KEPT = 3


def _lemma_doc(nlp: Language, lemmas: str) -> Doc:
    words = lemmas.split()
    return Doc(nlp.vocab, words=words, lemmas=words)


@dataclass
class _Matchers:
    include_phrases: PhraseMatcher
    include_patterns: Matcher
    exclude_phrases: PhraseMatcher
    exclude_patterns: Matcher


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


def _yaml_word(value: Any) -> str:
    # YAML 1.1 reads bare no/yes/on/off as booleans; in a cue list they were words.
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


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
                if isinstance(items, list) else items
                for op, items in value.items()
            }
        out.append(token)
    return out


def lexical_fingerprint(code: Code) -> str:
    """What a code's lexical matches depend on besides the lemmas: its id and cues, nothing else."""
    cues = {"id": code.id, "include": code.include.model_dump(), "exclude": code.exclude.model_dump()}
    return hashlib.sha1(json.dumps(cues, sort_keys=True, default=str).encode("utf-8")).hexdigest()


class LexicalCoder:
    """spaCy PhraseMatcher and Matcher over lemmas, one set per code.

    A code's matches depend on its own cues only, so a coder built for some codes finds
    for them exactly what a coder for the whole codebook finds.
    """

    def __init__(self, codes: Codebook | Sequence[Code], nlp: Language) -> None:
        self.nlp = nlp
        self.codes = list(codes.codes if isinstance(codes, Codebook) else codes)
        self.matchers = _Matchers(
            PhraseMatcher(nlp.vocab, attr="LEMMA"), Matcher(nlp.vocab),
            PhraseMatcher(nlp.vocab, attr="LEMMA"), Matcher(nlp.vocab),
        )
        all_terms = {t for c in self.codes for t in (*c.include.terms, *c.exclude.terms)}
        for c in self.codes:
            all_terms |= _pattern_words(c.include.patterns) | _pattern_words(c.exclude.patterns)
        ordered = sorted(all_terms)
        lemma_of = dict(zip(ordered, [lemma_string(doc) for doc in nlp.pipe(ordered)], strict=True))
        for code in self.codes:
            self._add(code.id, code.include.terms, code.include.patterns, lemma_of,
                      self.matchers.include_phrases, self.matchers.include_patterns)
            self._add(code.id, code.exclude.terms, code.exclude.patterns, lemma_of,
                      self.matchers.exclude_phrases, self.matchers.exclude_patterns)
        self.requirements = _requirements(self.codes, lemma_of)
        # Each cue under one word it needs (from its first clause): a segment's words then
        # point straight at the few cues worth checking.
        self._cues_by_word: dict[str, list[list[frozenset[str]]]] = {}
        for clauses in self.requirements or []:
            for word in clauses[0]:
                self._cues_by_word.setdefault(word, []).append(clauses)

    def may_match(self, lemmas: str) -> bool:
        """False only when no inclusion cue can match: each cue lacks a word it needs."""
        if self.requirements is None:
            return True
        words = set(lemmas.split())
        return any(all(not clause.isdisjoint(words) for clause in clauses[1:])
                   for word in words.intersection(self._cues_by_word) for clauses in self._cues_by_word[word])

    def _add(self, key: str, terms: list[str], patterns: list[list[dict[str, Any]]],
             lemma_of: dict[str, str], phrases: PhraseMatcher, tokens: Matcher) -> None:
        docs = [_lemma_doc(self.nlp, lemma_of[t]) for t in terms if lemma_of[t].strip()]
        if docs:
            phrases.add(key, docs)
        lowered = [_lemma_pattern(pattern, lemma_of) for pattern in patterns]
        if lowered:
            try:
                tokens.add(key, lowered)
            except ValueError as exc:  # spaCy's MatchPatternError
                raise ConfigError(f"codebook code {key!r}: invalid token pattern: {exc}") from None

    @staticmethod
    def _run(phrases: PhraseMatcher, patterns: Matcher, doc: Doc) -> list[tuple[int, int, int]]:
        # An empty matcher warns on every call; skip it instead.
        found: list[tuple[int, int, int]] = list(phrases(doc)) if len(phrases) else []
        if len(patterns):
            found.extend(patterns(doc))
        return found

    def match(self, lemmas: str) -> dict[str, str]:
        """code id -> the first inclusion cue that survives the exclusion cues ('' if excluded)."""
        if not self.may_match(lemmas):
            return {}
        doc = _lemma_doc(self.nlp, lemmas)
        vocab = self.nlp.vocab.strings
        found: dict[str, list[tuple[int, int]]] = {}
        for match_id, start, end in self._run(self.matchers.include_phrases, self.matchers.include_patterns, doc):
            found.setdefault(vocab[match_id], []).append((start, end))
        if not found:
            return {}
        blocked: dict[str, list[tuple[int, int]]] = {}
        for match_id, start, end in self._run(self.matchers.exclude_phrases, self.matchers.exclude_patterns, doc):
            blocked.setdefault(vocab[match_id], []).append((start, end))
        result: dict[str, str] = {}
        for code_id, spans in found.items():
            stops = blocked.get(code_id, [])
            alive = sorted(s for s in spans if not any(s[0] < e and b < s[1] for b, e in stops))
            if alive:
                start, end = alive[0]
                result[code_id] = doc[start:end].text
            else:
                result[code_id] = ""
        return result

    def match_all(self, lemmas: Sequence[str]) -> list[dict[str, str]]:
        """:meth:`match` for each lemma string."""
        return [self.match(text or "") for text in lemmas]


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
        for term in code.include.terms:
            words = lemma_of[term].split()
            if words:
                cues.append([frozenset([word]) for word in dict.fromkeys(words)])
        for pattern in code.include.patterns:
            clauses = [frozenset(_lemma_words(token)) for token in _lemma_pattern(pattern, lemma_of)
                       if _required(token.get("OP")) and _lemma_words(token)]
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


class SemanticCoder:
    """Similarity of segment embeddings to each code's prototypes."""

    def __init__(self, codebook: Codebook, embed_settings: EmbedSettings) -> None:
        from litthemes.embed import embed_texts

        self.codes = [c for c in codebook.codes if c.semantic]
        texts: list[str] = []
        self.owner: list[int] = []
        for i, code in enumerate(self.codes):
            for proto in code.prototypes:
                texts.append(proto)
                self.owner.append(i)
        # One lookup for prototypes and background texts: each reads the embedding cache.
        everything = embed_texts(texts + codebook.background, embed_settings)
        self.vectors = everything[:len(texts)] if texts else np.zeros((0, 384), np.float32)
        self.background = everything[len(texts):] if codebook.background else None

    def contrast(self, vectors: np.ndarray, similarities: np.ndarray) -> np.ndarray:
        """Similarity to each code minus similarity to the closest background text
        (or, without background texts, minus the mean similarity to all codes)."""
        if self.background is not None and len(vectors):
            return similarities - row_dot(vectors, self.background).max(axis=1, keepdims=True)
        if similarities.shape[1] > 1:
            return similarities - similarities.mean(axis=1, keepdims=True)
        return similarities

    def similarities(self, vectors: np.ndarray) -> np.ndarray:
        """(n_segments, n_semantic_codes) best cosine similarity per code."""
        if not self.codes or len(vectors) == 0:
            return np.zeros((len(vectors), len(self.codes)), dtype=np.float32)
        sims = row_dot(vectors, self.vectors)
        owner = np.asarray(self.owner)
        out = np.full((len(vectors), len(self.codes)), -1.0, dtype=np.float32)
        for i in range(len(self.codes)):
            out[:, i] = sims[:, owner == i].max(axis=1)
        return out


def code_segments(segments: pd.DataFrame, vectors: np.ndarray | None, codebook: Codebook,
                  settings: CodeSettings | None = None, embed_settings: EmbedSettings | None = None,
                  nlp_model: str = "auto", matches: Sequence[dict[str, str]] | None = None) -> pd.DataFrame:
    """Score every segment against every code; keep rows with evidence (see module doc).

    ``matches`` are the segments' lexical matches (:meth:`LexicalCoder.match`, one per
    segment row) when the caller has them, from a cache for instance.
    """
    settings = settings or CodeSettings()
    embed_settings = embed_settings or EmbedSettings()
    if matches is None:
        matches = LexicalCoder(codebook, load_pipeline(nlp_model)).match_all(segments["lemmas"].tolist())
    codes = codebook.codes
    index = {c.id: i for i, c in enumerate(codes)}
    n = len(segments)
    if len(matches) != n:
        raise ValueError(f"{len(matches)} lexical matches for {n} segments")
    lex = np.zeros((n, len(codes)), dtype=np.float32)
    blocked = np.zeros((n, len(codes)), dtype=bool)
    cues = np.full((n, len(codes)), "", dtype=object)
    for row, found in enumerate(matches):
        for code_id, cue in found.items():
            if cue:
                lex[row, index[code_id]] = 1.0
                cues[row, index[code_id]] = cue
            else:
                blocked[row, index[code_id]] = True
    sem = np.zeros((n, len(codes)), dtype=np.float32)
    semantic_only = np.zeros((n, len(codes)), dtype=bool)
    if vectors is not None and n:
        semantic = SemanticCoder(codebook, embed_settings)
        sims = semantic.similarities(vectors)
        contrast = semantic.contrast(vectors, sims)
        scaled = np.clip(contrast / settings.semantic_scale, 0.0, 1.0)
        best = contrast == contrast.max(axis=1, keepdims=True)
        strong = best & (scaled >= settings.semantic_threshold) & (sims >= settings.semantic_min_similarity)
        for j, code in enumerate(semantic.codes):
            sem[:, index[code.id]] = scaled[:, j]
            semantic_only[:, index[code.id]] = strong[:, j]
    sem[blocked] = 0.0
    semantic_only[blocked] = False
    w = settings.lexical_weight
    score = w * lex + (1 - w) * sem
    present = ((lex > 0) & (score >= settings.present_threshold)) | semantic_only
    # Keep each segment's strongest themes even when weak, so every record has a
    # meaningful best score per theme and a strongest code, without storing the
    # full segment x code matrix.
    is_theme = np.array([c.dimension == "theme" for c in codes])
    theme_scores = np.where(is_theme[None, :], score, -1.0)
    top = np.argsort(-theme_scores, axis=1, kind="stable")[:, :TOP_THEMES_KEPT] if n else np.zeros((0, 0), int)
    strongest = np.zeros_like(present)
    if n:
        np.put_along_axis(strongest, top, True, axis=1)
        strongest &= (score > 0) & is_theme[None, :]
    keep_rows, keep_cols = np.nonzero((score >= STORE_MIN_SCORE) | present | strongest)
    frame = pd.DataFrame({
        "record_id": segments["record_id"].to_numpy()[keep_rows],
        "segment_index": segments["segment_index"].to_numpy()[keep_rows].astype(np.int64),
        "code": [codes[j].id for j in keep_cols],
        "dimension": [codes[j].dimension for j in keep_cols],
        "lexical": lex[keep_rows, keep_cols].astype(float),
        "semantic": np.round(sem[keep_rows, keep_cols].astype(float), 6),
        "score": np.round(score[keep_rows, keep_cols].astype(float), 6),
        "present": present[keep_rows, keep_cols],
        "cue": [cues[r, c] if cues[r, c] else ("semantic" if present[r, c] else "") for r, c in zip(keep_rows, keep_cols, strict=True)],
    }, columns=SEGMENT_CODES.names)
    return frame.sort_values(["record_id", "segment_index", "code"], kind="stable").reset_index(drop=True)


def aggregate(segment_codes: pd.DataFrame, record_ids: list[str], codebook: Codebook,
              dimension: str | None = "theme") -> pd.DataFrame:
    """Record x code table: best score, presence and number of supporting segments.

    ``dimension='theme'`` gives CODES (one row per record and theme); another
    dimension gives its own table; ``None`` gives every code.
    """
    codes: list[Code] = [c for c in codebook.codes if dimension is None or c.dimension == dimension]
    grid = pd.MultiIndex.from_product([sorted(set(record_ids)), [c.id for c in codes]],
                                      names=["record_id", "theme"]).to_frame(index=False)
    subset = segment_codes[segment_codes["code"].isin([c.id for c in codes])]
    if len(subset):
        ordered = subset.sort_values(["record_id", "code", "score", "segment_index"],
                                     ascending=[True, True, False, True], kind="stable")
        best = ordered.drop_duplicates(["record_id", "code"])[["record_id", "code", "score", "segment_index"]]
        support = subset[subset["present"]].groupby(["record_id", "code"]).size().rename("n_segments")
        best = best.merge(support.reset_index(), on=["record_id", "code"], how="left")
        best = best.rename(columns={"code": "theme", "segment_index": "best_segment"})
    else:
        best = pd.DataFrame(columns=["record_id", "theme", "score", "best_segment", "n_segments"])
    table = grid.merge(best, on=["record_id", "theme"], how="left")
    table["score"] = table["score"].astype(float).fillna(0.0)
    table["n_segments"] = table["n_segments"].astype(float).fillna(0).astype(np.int64)
    table["best_segment"] = table["best_segment"].astype(float).fillna(-1).astype(np.int64)
    table["present"] = table["n_segments"] > 0
    themes = table["theme"].tolist()  # a list: iterating an Arrow-backed column is 10x slower
    meta = {c.id: c for c in codes}
    table["group"] = [meta[t].group or "" for t in themes]
    table["dimension"] = [meta[t].dimension for t in themes]
    table["codebook_version"] = codebook.version
    table["codebook_hash"] = codebook.source_hash[:16]
    return table[CODES.names]


def evidence(segment_codes: pd.DataFrame, segments: pd.DataFrame, per_code: int) -> pd.DataFrame:
    """Best quotes per record and code, with offsets into the field they came from."""
    present = segment_codes[segment_codes["present"]]
    ranked = present.sort_values(["record_id", "code", "score", "segment_index"],
                                 ascending=[True, True, False, True], kind="stable")
    ranked = ranked.groupby(["record_id", "code"], sort=False).head(per_code).copy()
    ranked["rank"] = ranked.groupby(["record_id", "code"], sort=False).cumcount() + 1
    merged = ranked.merge(segments[["record_id", "segment_index", "field", "start_char", "end_char", "text"]],
                          on=["record_id", "segment_index"], how="left")
    merged = merged.rename(columns={"code": "theme", "text": "quote"})
    merged["rank"] = merged["rank"].astype(np.int64)
    return merged[EVIDENCE.names].reset_index(drop=True)


def top_code(codes: pd.DataFrame) -> pd.Series:
    """The strongest theme of each record (ties broken by theme id)."""
    ordered = codes.sort_values(["record_id", "score", "theme"], ascending=[True, False, True], kind="stable")
    return ordered.drop_duplicates("record_id").set_index("record_id")["theme"]
