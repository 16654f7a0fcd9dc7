"""Claims stage I/O: records and segments -> the claims ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from litthemes.claims.ledger import ledger
from litthemes.claims.spans import claim_spans
from litthemes.config import SegmentSettings
from litthemes.tables import RECORDS, SEGMENTS, read_table, write_analysis_table


def find_claims(
    segments: pd.DataFrame, records: pd.DataFrame, model: str = "auto", cache_dir: str = ""
) -> pd.DataFrame:
    """The claims ledger of ``segments`` (spans found with spaCy, joined with their
    sentence and the citation of their record in ``records``)."""
    return ledger(claim_spans(segments, model, cache_dir), segments, records)


def run(records_path: str, segments_path: str, out: str, settings: dict[str, Any] | None = None) -> int:
    """Find the claims in the segments and write the ledger; returns the number of claims."""
    nlp = SegmentSettings.model_validate(settings or {})
    records = read_table(records_path, RECORDS)
    segments = read_table(segments_path, SEGMENTS)
    claims = find_claims(segments, records[records["status"] == "included"], nlp.model, nlp.cache_dir)
    write_analysis_table(claims, Path(out))
    return len(claims)
