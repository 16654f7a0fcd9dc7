"""NLP stage I/O: RECORDS.parquet -> segments.parquet, through a per-record cache."""

from __future__ import annotations

from typing import Any

import pandas as pd

from litthemes.cache import KEY, RecordCache, content_key
from litthemes.config import ConfigError, NlpSettings
from litthemes.segment import pipeline_id, segment
from litthemes.shards import order_rows, select_shard
from litthemes.tables import (
    CLAIM_SPANS,
    RECORDS,
    SEGMENTS,
    read_table,
    write_analysis_table,
    write_table,
)


def cached_segments(records: pd.DataFrame, settings: NlpSettings) -> pd.DataFrame:
    """:func:`segment`, computing only records whose content the cache has not seen."""
    included = records[records["status"] == "included"].reset_index(drop=True)
    if not settings.cache_dir:
        return segment(included, settings)
    keys = [content_key(r.record_id, r.title, r.abstract, r.fulltext) for r in included.itertuples()]
    namespace = {"settings": settings.model_dump(exclude={"cache_dir", "batch_size"}), "pipeline": pipeline_id(settings.model)}
    cache = RecordCache(settings.cache_dir, "segments", SEGMENTS, namespace)
    cached, found = cache.load(keys)
    todo = [k not in found for k in keys]
    new = segment(included[todo], settings)
    key_of = dict(zip(included["record_id"], keys, strict=True))
    cache.add(new.assign(**{KEY: new["record_id"].map(key_of)}), [k for k, t in zip(keys, todo, strict=True) if t])
    frames = [f for f in (cached.drop(columns=KEY), new) if len(f)]
    merged = pd.concat(frames, ignore_index=True) if frames else new
    return order_rows(merged, {rid: i for i, rid in enumerate(included["record_id"])})


def run(records_path: str, out: str, settings: dict[str, Any] | None = None,
        shard: tuple[int, int] | None = None, claims_out: str | None = None, ledger_out: str | None = None) -> int:
    """Segment the included records (of one shard, if given). While spaCy is loaded here
    anyway: with ``claims_out``, also write the claims found in the segments
    (:func:`litthemes.segment.claims.claim_spans`); with ``ledger_out``, the claims ledger
    itself (:func:`litthemes.trends.claims.ledger`, what ``litthemes claims`` writes),
    which needs every record, so not with ``shard``."""
    if ledger_out and shard:
        # A ConfigError, so that the CLI reports it as the option clash it is.
        raise ConfigError(f"{records_path}: the claims ledger needs every record, not shard {shard[0]} of {shard[1]}: "
                         "write the shards' claim spans and join them with `litthemes claims --spans`")
    parsed = NlpSettings.model_validate(settings or {})
    records = select_shard(read_table(records_path, RECORDS), shard)
    segments = cached_segments(records, parsed)
    write_table(segments, out, SEGMENTS, "segments")
    if claims_out or ledger_out:
        from litthemes.segment.claims import claim_spans

        spans = claim_spans(segments, parsed.model, parsed.cache_dir)
        if claims_out:
            write_table(spans, claims_out, CLAIM_SPANS, "claim spans")
        if ledger_out:
            from litthemes.trends.claims import ledger

            write_analysis_table(ledger(spans, segments, records[records["status"] == "included"]), ledger_out)
    return len(segments)
