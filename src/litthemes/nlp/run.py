"""NLP stage I/O: RECORDS.parquet -> segments.parquet."""

from __future__ import annotations

from typing import Any

from litthemes.config import NlpSettings
from litthemes.nlp import segment
from litthemes.tables import RECORDS, SEGMENTS, read_table, write_table


def run(records_path: str, out: str, settings: dict[str, Any] | None = None) -> int:
    records = read_table(records_path, RECORDS)
    segments = segment(records, NlpSettings.model_validate(settings or {}))
    write_table(segments, out, SEGMENTS, "segments")
    return len(segments)
