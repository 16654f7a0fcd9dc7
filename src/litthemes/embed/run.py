"""Embed stage I/O: records + segments -> segment and document embeddings."""

from __future__ import annotations

from typing import Any

import pandas as pd

from litthemes.config import EmbedSettings
from litthemes.embed import document_text, embed_table, write_vectors
from litthemes.tables import RECORDS, SEGMENTS, read_table


def run(records_path: str, segments_path: str, segments_out: str, documents_out: str,
        settings: dict[str, Any] | None = None) -> tuple[int, int]:
    parsed = EmbedSettings.model_validate(settings or {})
    records = read_table(records_path, RECORDS)
    records = records[records["status"] == "included"].reset_index(drop=True)
    segments = read_table(segments_path, SEGMENTS)
    # One call over all texts: the cache and the model are shared by both tables.
    docs = records.assign(text=document_text(records))[["record_id", "text"]]
    both = embed_table(
        pd.concat([segments[["record_id", "segment_index", "text"]],
                                     docs.assign(segment_index=-1)], ignore_index=True),
        ["record_id", "segment_index"], "text", parsed)
    write_vectors(both[both["segment_index"] >= 0].reset_index(drop=True), segments_out)
    write_vectors(both[both["segment_index"] < 0].drop(columns="segment_index").reset_index(drop=True), documents_out)
    return len(segments), len(docs)
