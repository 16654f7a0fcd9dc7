"""The documents the topic models see: each included record's lemmas and document vector."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable

import numpy as np
import pandas as pd

from litthemes.tables import RECORDS, SEGMENTS, read_table, read_vectors

# The first characters of a full text that stand for the document, as in embed.document_text.
FULLTEXT_CHARS = 2000


def topic_documents(segments: pd.DataFrame, record_ids: list[str]) -> list[str]:
    """Each record's lemmas (title, abstract, start of the full text), from the segment stage.

    Reusing the segments' lemmas spares a second spaCy pass over the corpus.
    """
    use = segments[(segments["field"] != "fulltext") | (segments["start_char"] < FULLTEXT_CHARS)]
    joined = use.groupby("record_id", sort=False)["lemmas"].agg(lambda parts: " ".join(p for p in parts if p))
    return [str(joined.get(rid, "")) for rid in record_ids]


_WORD = re.compile(r"\w+")


def surface_forms(segments: pd.DataFrame, wanted: Iterable[str]) -> dict[str, str]:
    """The word each lemma in ``wanted`` most often stands for in the segments' text.

    A lookup lemmatizer gives lemmas no reader would write ("datum" for data, "learn"
    for learning); topic terms are shown as the text says them. A segment counts where
    its words line up one to one with its lemmas; ties go to the alphabetically first
    word, so the choice depends on the corpus alone.
    """
    wanted = set(wanted)
    seen: dict[str, Counter[str]] = defaultdict(Counter)
    for text, lemmas in zip(segments["text"], segments["lemmas"], strict=True):
        lemma_words = str(lemmas).split()
        if not wanted.intersection(lemma_words):
            continue
        words = _WORD.findall(str(text).lower())
        if len(words) != len(lemma_words):
            continue
        for word, lemma in zip(words, lemma_words, strict=True):
            if lemma in wanted:
                seen[lemma][word] += 1
    return {lemma: min(counts.items(), key=lambda item: (-item[1], item[0]))[0] for lemma, counts in seen.items()}


def surface_terms(terms: list[str], forms: dict[str, str]) -> list[str]:
    """Topic terms (words and bigrams of lemmas) in their surface form, duplicates dropped."""
    out: list[str] = []
    for term in terms:
        shown = " ".join(forms.get(word, word) for word in term.split())
        if shown not in out:
            out.append(shown)
    return out


def document_vectors(records_path: str, vectors_path: str) -> tuple[list[str], np.ndarray]:
    """Included record ids with a document vector, in record-table order (the order the
    topic models see them in), and their vectors."""
    records = read_table(records_path, RECORDS)
    keys, vectors = read_vectors(vectors_path)
    position = {rid: i for i, rid in enumerate(keys["record_id"])}
    ids = [rid for rid in records.loc[records["status"] == "included", "record_id"] if rid in position]
    return ids, vectors[[position[r] for r in ids]] if ids else vectors[:0]


def documents(records_path: str, segments_path: str, vectors_path: str) -> tuple[list[str], list[str], np.ndarray]:
    """:func:`document_vectors` and each record's lemma document."""
    ids, doc_vectors = document_vectors(records_path, vectors_path)
    return ids, topic_documents(read_table(segments_path, SEGMENTS), ids), doc_vectors
