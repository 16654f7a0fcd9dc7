"""Ingest stage: read exports into the canonical record table and account for every record."""

from __future__ import annotations

from litthemes.ingest.pipeline import (
    UnreadableFile,
    expand_inputs,
    field_availability,
    ingest,
    ingest_files,
    input_files,
    read_normalized,
    search_results_file,
)

__all__ = [
    "UnreadableFile",
    "expand_inputs",
    "field_availability",
    "ingest",
    "ingest_files",
    "input_files",
    "read_normalized",
    "search_results_file",
]
