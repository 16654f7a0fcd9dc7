"""Segment stage I/O: RECORDS.parquet -> segments.parquet, through a per-record cache."""

from __future__ import annotations

from typing import Any

import pandas as pd

from litthemes.cache import KEY, RecordCache, content_key
from litthemes.config import SegmentSettings
from litthemes.segment import pipeline_id, segment
from litthemes.shards import order_rows, select_shard
from litthemes.tables import RECORDS, SEGMENTS, read_table, write_table


def cached_segments(records: pd.DataFrame, settings: SegmentSettings) -> pd.DataFrame:
    """:func:`segment`, computing only records whose content the cache has not seen."""
    included = records[records["status"] == "included"].reset_index(drop=True)
    if not settings.cache_dir:
        return segment(included, settings)
    keys = [content_key(r.record_id, r.title, r.abstract, r.fulltext) for r in included.itertuples()]
    namespace = {
        "settings": settings.model_dump(exclude={"cache_dir", "batch_size"}),
        "pipeline": pipeline_id(settings.model),
    }
    cache = RecordCache(settings.cache_dir, "segments", SEGMENTS, namespace)
    cached, found = cache.load(keys)
    todo = [k not in found for k in keys]
    new = segment(included[todo], settings)
    key_of = dict(zip(included["record_id"], keys, strict=True))
    cache.add(new.assign(**{KEY: new["record_id"].map(key_of)}), [k for k, t in zip(keys, todo, strict=True) if t])
    frames = [f for f in (cached.drop(columns=KEY), new) if len(f)]
    merged = pd.concat(frames, ignore_index=True) if frames else new
    return order_rows(merged, {rid: i for i, rid in enumerate(included["record_id"])})


def run(
    records_path: str, out: str, settings: dict[str, Any] | None = None, shard: tuple[int, int] | None = None
) -> int:
    """Segment the included records (of one shard, if given); returns the number of segments."""
    parsed = SegmentSettings.model_validate(settings or {})
    records = select_shard(read_table(records_path, RECORDS), shard)
    segments = cached_segments(records, parsed)
    write_table(segments, out, SEGMENTS, "segments")
    return len(segments)
