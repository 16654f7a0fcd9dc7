"""Claims ledger: each claim span with its sentence, record and a citation, so a policy
brief can quote it."""

from __future__ import annotations

import pandas as pd

from litthemes.cite import citation

CLAIM_COLUMNS = ["record_id", "segment_index", "kind", "value", "sentence", "citation", "doi"]


def ledger(spans: pd.DataFrame, segments: pd.DataFrame, records: pd.DataFrame) -> pd.DataFrame:
    """Each claim span with its sentence, citation and DOI, in segment order."""
    if spans.empty:
        return pd.DataFrame(columns=CLAIM_COLUMNS)
    where = {
        key: row
        for row, key in enumerate(zip(segments["record_id"].tolist(), segments["segment_index"].tolist(), strict=True))
    }
    texts = segments["text"].tolist()
    claims = list(
        zip(
            spans["record_id"].tolist(),
            spans["segment_index"].tolist(),
            spans["position"].tolist(),
            spans["kind"].tolist(),
            spans["value"].tolist(),
            strict=True,
        )
    )
    unknown = next((claim for claim in claims if (claim[0], claim[1]) not in where), None)
    if unknown is not None:
        raise ValueError(
            f"claim spans name segment {unknown[1]} of record {unknown[0]!r}, which the segment "
            "table does not hold: spans and segments come from different runs"
        )
    claims.sort(key=lambda claim: (where[(claim[0], claim[1])], claim[2]))
    meta = records.set_index("record_id")
    cited: dict[str, tuple[str, str]] = {}
    rows = []
    for record_id, index, _, kind, value in claims:
        if record_id not in cited:
            record = meta.loc[record_id]
            cited[record_id] = (citation(record), record.get("doi") or "")
        rows.append(
            {
                "record_id": record_id,
                "segment_index": int(index),
                "kind": kind,
                "value": value,
                "sentence": texts[where[(record_id, index)]],
                "citation": cited[record_id][0],
                "doi": cited[record_id][1],
            }
        )
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)
