"""spaCy pipelines and segmentation of records into titles, sentences and passages."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import pandas as pd
import spacy
from spacy.language import Language

from litthemes.config import SegmentSettings
from litthemes.tables import SEGMENTS

log = logging.getLogger(__name__)

TRAINED_PIPELINES = ("en_core_web_sm", "en_core_web_md", "en_core_web_lg", "en_core_web_trf")
_PARAGRAPH = re.compile(r"\n\s*\n")


@lru_cache(maxsize=4)
def load_pipeline(model: str = "auto") -> Language:
    """A spaCy English pipeline with sentences and lemmas.

    'auto' takes a trained English pipeline when one is installed, else a blank
    English pipeline with a rule-based sentencizer and the lookup lemmatizer from
    ``spacy-lookups-data``. Only tokenisation, sentences and lemmas are needed, so
    the parser and NER of a trained pipeline are disabled for speed.
    """
    candidates = TRAINED_PIPELINES if model == "auto" else (() if model == "blank" else (model,))
    for name in candidates:
        try:
            nlp = spacy.load(name, exclude=["ner", "textcat"])
        except OSError:
            if model not in ("auto", "blank"):
                raise ValueError(
                    f"segment.model: spaCy pipeline {name!r} is not installed; use 'auto', 'blank' "
                    f"or install it (python -m spacy download {name})"
                ) from None
            continue
        if "parser" in nlp.pipe_names and "senter" not in nlp.pipe_names:
            nlp.add_pipe("sentencizer", before="parser")
            nlp.disable_pipe("parser")
        log.info("spaCy pipeline %s %s", name, nlp.meta.get("version"))
        return nlp
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    lemmatizer: Any = nlp.get_pipe("lemmatizer")
    _LOOKUPS[id(nlp.vocab)] = lemmatizer.lookups.get_table("lemma_lookup")
    log.info("spaCy blank English pipeline with lookup lemmatizer")
    return nlp


def pipeline_id(model: str = "auto") -> str:
    """What a segment's lemmas depend on: the pipeline's name and version, and spaCy's."""
    nlp = load_pipeline(model)
    name = f"{nlp.meta.get('lang')}_{nlp.meta.get('name')}@{nlp.meta.get('version')}"
    return f"{name}|spacy {spacy.__version__}|{nlp.pipe_names}"


def lemma_string(doc: Any) -> str:
    """Lower-case lemmas of word tokens, space-separated (punctuation dropped).

    The lookup lemmatizer is case-sensitive, so a capitalised word at the start of
    a sentence ('Laddered') would keep its form; such words are looked up again in
    lower case, so that cues match wherever the word stands.
    """
    out = []
    for tok in doc:
        if tok.is_punct or tok.is_space:
            continue
        lemma = tok.lemma_ or tok.text
        if lemma == tok.text and tok.text != tok.lower_:
            table = _LOOKUPS.get(id(doc.vocab))
            if table is not None:
                lemma = table.get(tok.lower_, tok.lower_)
        out.append(lemma.lower())
    return " ".join(out)


# Lookup tables of loaded blank pipelines, by vocab, for lemma_string's lower-case retry.
_LOOKUPS: dict[int, Any] = {}


def _split_long(text: str, start: int, limit: int) -> Iterator[tuple[int, int, str]]:
    """Split a passage longer than ``limit`` characters at whitespace."""
    while len(text) > limit:
        cut = text.rfind(" ", 0, limit)
        cut = cut if cut > limit // 2 else limit
        yield start, start + cut, text[:cut]
        rest = text[cut:]
        stripped = rest.lstrip()
        start += cut + (len(rest) - len(stripped))
        text = stripped
    if text.strip():
        yield start, start + len(text), text


def _passages(record: pd.Series) -> Iterator[tuple[str, int, int, str, bool]]:
    """(field, start, end, text, needs_sentence_split) for one record."""
    title = record["title"] or ""
    if title.strip():
        yield "title", 0, len(title), title, False
    abstract = record["abstract"] or ""
    if abstract.strip():
        yield "abstract", 0, len(abstract), abstract, True
    fulltext = record["fulltext"] or ""
    if fulltext.strip():
        position = 0
        for block in _PARAGRAPH.split(fulltext):
            begin = fulltext.find(block, position)
            position = begin + len(block)
            if block.strip():
                yield "fulltext", begin, begin + len(block), block, True


def segment(records: pd.DataFrame, settings: SegmentSettings | None = None) -> pd.DataFrame:
    """Segments of the included records, with lemmas, in record order."""
    settings = settings or SegmentSettings()
    nlp = load_pipeline(settings.model)
    included = records[records["status"] == "included"] if "status" in records else records
    jobs: list[tuple[str, str, int, str, bool]] = []
    for _, record in included.iterrows():
        for field, begin, _end, text, split in _passages(record):
            jobs.append((record["record_id"], field, begin, text, split))
    rows: list[dict[str, Any]] = []
    counters: dict[str, int] = {}
    texts = (job[3] for job in jobs)
    for job, doc in zip(jobs, nlp.pipe(texts, batch_size=settings.batch_size), strict=True):
        record_id, field, offset, _text, split = job
        spans = list(doc.sents) if split else [doc[:]]
        for span in spans:
            if not span.text.strip():
                continue
            for begin, end, piece in _split_long(span.text, span.start_char, settings.max_segment_chars):
                sub = span if piece == span.text else doc.char_span(begin, end, alignment_mode="expand")
                index = counters.get(record_id, 0)
                counters[record_id] = index + 1
                rows.append(
                    {
                        "record_id": record_id,
                        "segment_index": index,
                        "field": field,
                        "start_char": offset + begin,
                        "end_char": offset + end,
                        "text": piece.strip(),
                        "lemmas": lemma_string(sub if sub is not None else nlp.make_doc(piece)),
                    }
                )
    return pd.DataFrame(rows, columns=SEGMENTS.names)


def lemmatize(texts: list[str], model: str = "auto", batch_size: int = 256) -> list[str]:
    """Lemma strings for arbitrary texts (codebook cues, examples, topic documents)."""
    nlp = load_pipeline(model)
    return [lemma_string(doc) for doc in nlp.pipe(texts, batch_size=batch_size)]
