"""Claims ledger: quantitative statements in abstracts and full texts, with their source.

spaCy token patterns find percentages, money amounts, counts of learners, badges or
credentials, and growth statements; each claim keeps its sentence, record and a
citation so a policy brief can quote it.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
from spacy.lang.en.lex_attrs import _num_words, _ordinal_words
from spacy.matcher import Matcher

from litthemes.cite import citation
from litthemes.nlp import load_pipeline

CLAIM_COLUMNS = ["record_id", "segment_index", "kind", "value", "sentence", "citation", "doi"]

_NUMBER = {"LIKE_NUM": True}
_SCALE = {"LOWER": {"IN": ["thousand", "million", "billion", "trillion", "k", "m", "bn"]}, "OP": "?"}
_COUNTED = {"LEMMA": {"IN": ["learner", "student", "badge", "credential", "microcredential", "certificate",
                              "participant", "user", "employer", "institution", "university", "course",
                              "enrolment", "enrollment", "employee", "worker", "adult", "teacher", "issuer",
                              "provider", "programme", "program", "company"]}}

PATTERNS: dict[str, list[list[dict[str, Any]]]] = {
    "percentage": [
        [_NUMBER, {"ORTH": "%"}],
        [_NUMBER, {"LOWER": {"IN": ["percent", "per", "pct"]}}, {"LOWER": "cent", "OP": "?"}],
        [{"TEXT": {"REGEX": r"^\d+(\.\d+)?%$"}}],
    ],
    "money": [
        [{"ORTH": {"IN": ["$", "€", "£", "¥"]}}, _NUMBER, _SCALE],
        [{"LOWER": {"IN": ["usd", "eur", "gbp", "aud", "nzd", "cad", "us$"]}}, _NUMBER, _SCALE],
        [_NUMBER, _SCALE, {"LOWER": {"IN": ["dollars", "euros", "pounds", "usd", "eur"]}}],
    ],
    "count": [
        [_NUMBER, _SCALE, {"OP": "?", "IS_ALPHA": True, "IS_STOP": False}, _COUNTED],
        [{"TEXT": {"REGEX": r"^\d{1,3}(,\d{3})+$"}}, {"OP": "?"}, _COUNTED],
    ],
    "growth": [
        [{"LEMMA": {"IN": ["grow", "increase", "rise", "double", "triple", "decline", "decrease", "fall"]}},
         {"LOWER": {"IN": ["by", "to", "from", "of"]}, "OP": "?"}, _NUMBER, {"ORTH": "%", "OP": "?"}],
        [{"LOWER": {"IN": ["cagr", "growth"]}}, {"OP": "?"}, {"OP": "?"}, _NUMBER, {"ORTH": "%", "OP": "?"}],
    ],
}


# Every pattern needs a number token (spaCy's LIKE_NUM: digits, or number words such as
# "twenty" or "third"), so text without one can skip the spaCy pipeline.
_NUMBER_WORD = re.compile(r"\b(?:" + "|".join(sorted(set(_num_words) | set(_ordinal_words), key=len, reverse=True))
                          + r")\b", re.IGNORECASE)


def may_hold_claim(text: str) -> bool:
    """False only for text in which no pattern can match (no digit, no number word)."""
    return any(ch.isdigit() for ch in text) or _NUMBER_WORD.search(text) is not None



def find_claims(segments: pd.DataFrame, records: pd.DataFrame, model: str = "auto") -> pd.DataFrame:
    """Quantitative statements in abstract and full-text segments (titles are skipped)."""
    nlp = load_pipeline(model)
    matcher = Matcher(nlp.vocab)
    for kind, patterns in PATTERNS.items():
        matcher.add(kind, patterns)
    body = segments[segments["field"].isin(["abstract", "fulltext"])]
    body = body[body["text"].map(may_hold_claim).astype(bool)]
    meta = records.set_index("record_id")
    rows = []
    for seg, doc in zip(body.itertuples(), nlp.pipe(body["text"].tolist(), batch_size=256), strict=True):
        spans = []
        for match_id, start, end in matcher(doc):
            spans.append((start, end, nlp.vocab.strings[match_id]))
        # Keep the longest match where matches overlap.
        spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
        last_end = -1
        for start, end, kind in spans:
            if start < last_end:
                continue
            last_end = end
            record = meta.loc[seg.record_id]
            rows.append({"record_id": seg.record_id, "segment_index": int(seg.segment_index), "kind": kind,
                         "value": doc[start:end].text, "sentence": seg.text, "citation": citation(record),
                         "doi": record.get("doi") or ""})
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)
