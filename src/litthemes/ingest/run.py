"""Ingest stage I/O: export files -> RECORDS.parquet + FLOW.json."""

from __future__ import annotations

from typing import Any

from litthemes.config import IngestSettings
from litthemes.ingest import ingest
from litthemes.tables import RECORDS, write_json, write_table


def run(inputs: list[str], out: str, flow_out: str, settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read ``inputs`` and write the record table and the flow; returns the flow."""
    parsed = IngestSettings.model_validate(settings or {})
    records, flow = ingest(inputs, parsed, cache_dir=parsed.cache_dir)
    write_table(records, out, RECORDS, "records")
    write_json(flow, flow_out)
    return flow
