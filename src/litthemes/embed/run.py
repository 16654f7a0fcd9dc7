"""Embed stage I/O: records + segments -> segment and document embeddings."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from litthemes.config import EmbedSettings
from litthemes.embed import document_text, embed_texts, preload_model
from litthemes.shards import select_shard
from litthemes.tables import RECORDS, SEGMENTS, read_table, write_matrix


def document_vectors(segments: pd.DataFrame, vectors: np.ndarray, record_ids: list[str]) -> np.ndarray:
    """Each record's unit-normalised mean of its segment embeddings (title, sentences, passages)."""
    position = {rid: i for i, rid in enumerate(record_ids)}
    rows = segments["record_id"].map(position).to_numpy()
    keep = ~pd.isna(rows)
    dim = vectors.shape[1] if vectors.ndim == 2 and len(vectors) else 384
    sums = np.zeros((len(record_ids), dim), np.float64)
    if keep.any():
        # Each record's segments added one after another in float64, in table order (as
        # np.add.at did): bincount sums its weights in input order from 0.0, one column of
        # the vectors at a time, at a fifth of the time of a sort and np.add.reduceat and
        # without a float64 copy of the whole matrix. compress gathers the kept rows
        # straight into contiguous columns (one float32 copy).
        owner = rows[keep].astype(np.int64)
        columns = np.compress(keep, vectors.T, axis=1)
        for dimension, column in enumerate(columns):
            sums[:, dimension] = np.bincount(owner, weights=column, minlength=len(record_ids))
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return (sums / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def run(
    records_path: str,
    segments_path: str,
    segments_out: str,
    documents_out: str,
    settings: dict[str, Any] | None = None,
    shard: tuple[int, int] | None = None,
) -> tuple[int, int]:
    """Embed every segment (of one shard's records, if given); documents are the mean of
    their segments, or their own text when ``embed.documents`` is 'text' (one more
    encoder pass over the corpus)."""
    parsed = EmbedSettings.model_validate(settings or {})
    # The stage reruns when segments change, which almost always brings new texts.
    preloading = preload_model(parsed)
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
    write_matrix(segments[["record_id", "segment_index"]], segment_vectors, segments_out)
    write_matrix(pd.DataFrame({"record_id": ids}), doc_vectors, documents_out)
    preloading.join()  # unused when every text was cached; never cut off mid-import
    return len(segments), len(ids)
