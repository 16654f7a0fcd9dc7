"""Claim spans: quantitative statements found by spaCy token patterns in segment text.

Percentages, money amounts, counts of learners, badges or credentials, and growth
statements. Each segment text's spans are cached, so a rerun after adding records runs
spaCy on the new records' text only.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import pyarrow as pa
from spacy.matcher import Matcher

from litthemes.segment import load_pipeline

# A segment's claims in the order they appear (position): the cache between runs.
CLAIM_SPANS = pa.schema(
    [
        ("record_id", pa.string()),
        ("segment_index", pa.int64()),
        ("kind", pa.string()),
        ("value", pa.string()),
        ("position", pa.int64()),
    ]
)

# Segment fields claims are looked for in: titles state topics, not findings.
CLAIM_FIELDS = ("abstract", "fulltext")

_NUMBER = {"LIKE_NUM": True}
# A number written in words may take two tokens or three ("ninety four", "Ninety-four":
# spaCy splits the hyphen off); without them "Ninety-four percent" was read as "four percent".
_NUMBER_WORDS_JOINED: list[dict[str, Any]] = [
    {"ORTH": {"IN": ["-", "\u2013"]}, "OP": "?"},
    {"LIKE_NUM": True, "OP": "?"},
]
_ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"]
_ORDINALS += ["eleventh", "twelfth", "twentieth", "thirtieth", "fiftieth", "hundredth", "thousandth"]
# A count counts: "second grade students" and "twenty-first century learners" are no number.
_CARDINAL: dict[str, Any] = {"LIKE_NUM": True, "LOWER": {"NOT_IN": _ORDINALS}}
_CARDINAL_JOINED: list[dict[str, Any]] = [_NUMBER_WORDS_JOINED[0], {**_CARDINAL, "OP": "?"}]
_SCALE = {"LOWER": {"IN": ["thousand", "million", "billion", "trillion", "k", "m", "bn"]}, "OP": "?"}
_GROWTH_VERB = {"LEMMA": {"IN": ["grow", "increase", "rise", "double", "triple", "decline", "decrease", "fall"]}}
_GROWTH_LINK = {"LOWER": {"IN": ["by", "to", "from", "of"]}, "OP": "?"}
_WORD_BETWEEN = {"IS_PUNCT": False, "OP": "?"}
_COUNTED = {
    "LEMMA": {
        "IN": [
            "learner",
            "student",
            "badge",
            "credential",
            "microcredential",
            "certificate",
            "participant",
            "user",
            "employer",
            "institution",
            "university",
            "course",
            "enrolment",
            "enrollment",
            "employee",
            "worker",
            "adult",
            "teacher",
            "issuer",
            "provider",
            "programme",
            "program",
            "company",
        ]
    }
}

PATTERNS: dict[str, list[list[dict[str, Any]]]] = {
    "percentage": [
        [_NUMBER, *_NUMBER_WORDS_JOINED, {"ORTH": "%"}],
        [_NUMBER, *_NUMBER_WORDS_JOINED, {"LOWER": {"IN": ["percent", "per", "pct"]}}, {"LOWER": "cent", "OP": "?"}],
        [{"TEXT": {"REGEX": r"^\d+(\.\d+)?%$"}}],
    ],
    "money": [
        [{"ORTH": {"IN": ["$", "€", "£", "¥"]}}, _NUMBER, _SCALE],
        [{"LOWER": {"IN": ["usd", "eur", "gbp", "aud", "nzd", "cad", "us$"]}}, _NUMBER, _SCALE],
        [_NUMBER, _SCALE, {"LOWER": {"IN": ["dollars", "euros", "pounds", "usd", "eur"]}}],
    ],
    "count": [
        [_CARDINAL, *_CARDINAL_JOINED, _SCALE, {"OP": "?", "IS_ALPHA": True, "IS_STOP": False}, _COUNTED],
        [{"TEXT": {"REGEX": r"^\d{1,3}(,\d{3})+$"}}, {"OP": "?"}, _COUNTED],
    ],
    "growth": [
        [_GROWTH_VERB, _GROWTH_LINK, _NUMBER, *_NUMBER_WORDS_JOINED, *unit]
        for unit in ([{"LOWER": {"IN": ["%", "percent", "pct"]}, "OP": "?"}], [{"LOWER": "per"}, {"LOWER": "cent"}])
    ]
    + [
        # Two words may stand between (a "growth rate of 5%"), but no punctuation (in "economic
        # growth, (2) ..." the number starts the next item of a list), and a rate has its unit
        # ("the growth of the one ..." is none).
        [
            {"LOWER": {"IN": ["cagr", "growth"]}},
            _WORD_BETWEEN,
            _WORD_BETWEEN,
            _NUMBER,
            {"LOWER": {"IN": ["%", "percent"]}},
        ],
    ],
}


# Every pattern needs a number token (spaCy's LIKE_NUM: digits, or number words such as
# "twenty" or "third"), so text without one can skip the spaCy pipeline. The English
# number words spaCy's LIKE_NUM knows, written out here: its list is private.
_NUMBER_WORDS = frozenset(
    [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
        "thirty",
        "forty",
        "fifty",
        "sixty",
        "seventy",
        "eighty",
        "ninety",
        "hundred",
        "thousand",
        "million",
        "billion",
        "trillion",
        "quadrillion",
        "gajillion",
        "bazillion",
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "sixth",
        "seventh",
        "eighth",
        "ninth",
        "tenth",
        "eleventh",
        "twelfth",
        "thirteenth",
        "fourteenth",
        "fifteenth",
        "sixteenth",
        "seventeenth",
        "eighteenth",
        "nineteenth",
        "twentieth",
        "thirtieth",
        "fortieth",
        "fiftieth",
        "sixtieth",
        "seventieth",
        "eightieth",
        "ninetieth",
        "hundredth",
        "thousandth",
        "millionth",
        "billionth",
        "trillionth",
        "quadrillionth",
        "gajillionth",
        "bazillionth",
    ]
)
_WORD = re.compile(r"\w+")
_ASCII_DIGIT = re.compile(r"[0-9]")


def may_hold_claim(text: str) -> bool:
    """False only for text in which no pattern can match (no digit, no number word)."""
    # A regex finds ASCII digits; only non-ASCII text needs the per-character test for
    # other digits (superscripts and the like), which is much slower.
    if _ASCII_DIGIT.search(text) or (not text.isascii() and any(map(str.isdigit, text))):
        return True
    # Number words are single words, so a set lookup of the text's words finds them.
    return not _NUMBER_WORDS.isdisjoint(_WORD.findall(text.lower()))


# What the cache keeps per segment text: each claim's kind and wording, in order.
SPAN_CACHE = pa.schema([("kind", pa.string()), ("value", pa.string()), ("position", pa.int64())])


def _spans(texts: list[str], model: str) -> list[list[tuple[str, str]]]:
    """(kind, wording) of each claim in each text; the longest match where matches overlap."""
    nlp = load_pipeline(model)
    matcher = Matcher(nlp.vocab)
    for kind, patterns in PATTERNS.items():
        matcher.add(kind, patterns)
    found: list[list[tuple[str, str]]] = []
    for doc in nlp.pipe(texts, batch_size=256):
        spans = sorted(
            ((start, end, nlp.vocab.strings[match_id]) for match_id, start, end in matcher(doc)),
            key=lambda s: (s[0], -(s[1] - s[0])),
        )
        kept: list[tuple[str, str]] = []
        last_end = -1
        for start, end, kind in spans:
            if start < last_end:
                continue
            last_end = end
            kept.append((kind, doc[start:end].text))
        found.append(kept)
    return found


def _cached_spans(texts: list[str], model: str, cache_dir: str) -> list[list[tuple[str, str]]]:
    """:func:`_spans`, running spaCy only on texts the cache has not seen (new records)."""
    from litthemes.cache import KEY, RecordCache, content_key
    from litthemes.segment import pipeline_id

    cache = RecordCache(cache_dir, "claims", SPAN_CACHE, {"nlp": pipeline_id(model), "patterns": PATTERNS})
    keys = [content_key(text) for text in texts]
    cached, seen = cache.load(keys)
    todo = sorted({key: i for i, key in enumerate(keys) if key not in seen}.values())
    fresh = _spans([texts[i] for i in todo], model)
    rows = [
        {KEY: keys[i], "kind": kind, "value": value, "position": n}
        for i, spans in zip(todo, fresh, strict=True)
        for n, (kind, value) in enumerate(spans)
    ]
    cache.add(pd.DataFrame(rows, columns=[KEY, *SPAN_CACHE.names]), [keys[i] for i in todo])
    by_key: dict[str, list[tuple[str, str]]] = {keys[i]: spans for i, spans in zip(todo, fresh, strict=True)}
    for key, group in cached.sort_values([KEY, "position"]).groupby(KEY, sort=False):
        by_key[str(key)] = list(zip(group["kind"], group["value"], strict=True))
    return [by_key.get(key, []) for key in keys]


def claim_spans(segments: pd.DataFrame, model: str = "auto", cache_dir: str = "") -> pd.DataFrame:
    """The claims of each abstract and full-text segment, in segment order (table
    :data:`litthemes.tables.CLAIM_SPANS`: ``position`` orders a segment's claims).

    With ``cache_dir``, spaCy runs only on segment texts the cache has not seen.
    """
    body = segments[segments["field"].isin(CLAIM_FIELDS)]
    body = body[body["text"].map(may_hold_claim).astype(bool)]
    texts = body["text"].tolist()
    spans = _cached_spans(texts, model, cache_dir) if cache_dir and texts else _spans(texts, model)
    rows = [
        (record_id, int(index), kind, value, position)
        for record_id, index, claims in zip(
            body["record_id"].tolist(), body["segment_index"].tolist(), spans, strict=True
        )
        for position, (kind, value) in enumerate(claims)
    ]
    return pd.DataFrame(rows, columns=CLAIM_SPANS.names)
