"""Embed stage I/O: records + segments -> segment and document embeddings."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from litthemes.config import EmbedSettings
from litthemes.embed import document_text, embed_texts, write_vectors
from litthemes.shards import select_shard
from litthemes.tables import RECORDS, SEGMENTS, read_table


def document_vectors(segments: pd.DataFrame, vectors: np.ndarray, record_ids: list[str]) -> np.ndarray:
    """Each record's unit-normalised mean of its segment embeddings (title, sentences, passages)."""
    position = {rid: i for i, rid in enumerate(record_ids)}
    rows = segments["record_id"].map(position).to_numpy()
    keep = ~pd.isna(rows)
    sums = np.zeros((len(record_ids), vectors.shape[1] if vectors.ndim == 2 and len(vectors) else 384), np.float64)
    np.add.at(sums, rows[keep].astype(int), vectors[keep])
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return (sums / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def run(records_path: str, segments_path: str, segments_out: str, documents_out: str,
        settings: dict[str, Any] | None = None, shard: tuple[int, int] | None = None) -> tuple[int, int]:
    """Embed every segment (of one shard's records, if given); documents are the mean of
    their segments, or their own text when ``embed.documents`` is 'text' (one more
    encoder pass over the corpus)."""
    parsed = EmbedSettings.model_validate(settings or {})
    records = read_table(records_path, RECORDS)
    records = select_shard(records[records["status"] == "included"].reset_index(drop=True), shard)
    segments = read_table(segments_path, SEGMENTS)
    if shard is not None:
        segments = segments[segments["record_id"].isin(set(records["record_id"]))].reset_index(drop=True)
    segment_vectors = embed_texts(segments["text"].tolist(), parsed)
    ids = records["record_id"].tolist()
    if parsed.documents == "text":
        doc_vectors = embed_texts(document_text(records).tolist(), parsed)
    else:
        doc_vectors = document_vectors(segments, segment_vectors, ids)
    write_vectors(segments[["record_id", "segment_index"]].assign(vector=list(segment_vectors)), segments_out)
    write_vectors(pd.DataFrame({"record_id": ids, "vector": list(doc_vectors)}), documents_out)
    return len(segments), len(ids)
