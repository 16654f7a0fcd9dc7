"""The documents the topic models see: each included record's lemmas and document vector."""

from __future__ import annotations

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
