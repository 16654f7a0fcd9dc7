"""Record shards for the per-record stages (segment, embed, code), and gathering them.

A record's shard is a hash of its id, so it does not depend on the other records or
their order. Each sharded stage processes one shard's included records; the gather
step puts the pieces back in the order the unsharded stage writes, so every table is
byte-identical whatever the number of shards.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from litthemes.tables import RECORDS, read_table, write_table


def parse_shard(value: str) -> tuple[int, int]:
    """'k/N' -> (k, N) with 0 <= k < N."""
    try:
        index_text, count_text = value.split("/")
        index, count = int(index_text), int(count_text)
    except ValueError:
        raise ValueError(f"shard {value!r}: expected 'k/N', e.g. '0/4'") from None
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"shard {value!r}: need 0 <= k < N")
    return index, count


def shard_of(record_id: str, count: int) -> int:
    """The shard (0..count-1) a record belongs to."""
    return int(hashlib.sha1(record_id.encode("utf-8")).hexdigest()[:8], 16) % count


def select_shard(records: pd.DataFrame, shard: tuple[int, int] | None) -> pd.DataFrame:
    """The records of one shard (all of them when ``shard`` is None), in table order."""
    if shard is None or shard[1] == 1:
        return records
    index, count = shard
    mask = np.fromiter((shard_of(r, count) == index for r in records["record_id"]), bool, len(records))
    return records[mask].reset_index(drop=True)


def included_order(records_path: str | Path) -> dict[str, int]:
    """Position of each included record in the record table (the unsharded stages' order)."""
    records = read_table(records_path, RECORDS)
    ids = records.loc[records["status"] == "included", "record_id"]
    return {rid: i for i, rid in enumerate(ids)}


def order_rows(frame: pd.DataFrame, order: dict[str, int] | None) -> pd.DataFrame:
    """Rows grouped by record: in record-table order, or by record id when ``order`` is None.

    The sort is stable, so the order of a record's rows within its shard is kept.
    """
    if frame.empty:
        return frame.reset_index(drop=True)
    if order is None:
        return frame.sort_values("record_id", kind="stable").reset_index(drop=True)
    key = frame["record_id"].map(order)
    if key.isna().any():
        missing = frame.loc[key.isna(), "record_id"].iloc[0]
        raise ValueError(f"record {missing!r} in a shard is not an included record of the record table")
    return (
        frame.assign(_order=key.to_numpy())
        .sort_values("_order", kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def read_gathered(paths: str | list[str], schema: pa.Schema, order: dict[str, int] | None = None) -> pd.DataFrame:
    """The table :func:`gather_tables` writes from ``paths``, without writing it; one
    path (a string) is read as it is.

    Jobs on the way to the brief read the shards' coding tables this way, so that they
    need not wait for the gather job (a list of one path reads an unsharded table).
    """
    if isinstance(paths, str):
        return read_table(paths, schema)
    frames = [read_table(p, schema) for p in paths]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=schema.names)
    return order_rows(frame, order)


def gather_tables(paths: list[str], schema: pa.Schema, name: str, out: str, order: dict[str, int] | None = None) -> int:
    """Concatenate shard tables into ``out`` in the unsharded order; returns the row count."""
    frame = read_gathered(paths, schema, order)
    write_table(frame, out, schema, name)
    return len(frame)


def gather_vectors(paths: list[str], out: str, order: dict[str, int]) -> int:
    """Concatenate shard vector tables (see :func:`litthemes.embed.write_vectors`) in record order."""
    from litthemes.tables import read_vectors, write_matrix

    parts = [read_vectors(path) for path in paths]
    # Empty shards still carry the key columns, so an all-empty gather keeps them too.
    filled = [(keys, matrix) for keys, matrix in parts if len(keys)] or parts[:1]
    if not filled:
        write_matrix(pd.DataFrame({"record_id": []}), np.zeros((0, 0), np.float32), out)
        return 0
    keys = pd.concat([k for k, _ in filled], ignore_index=True)
    matrix = np.vstack([m for _, m in filled]) if len(keys) else np.zeros((0, 0), np.float32)
    # Order the rows by their position, and take the matrix in that order: one copy,
    # instead of a numpy object per vector.
    ordered = order_rows(keys.assign(_row=np.arange(len(keys))), order)
    write_matrix(ordered.drop(columns="_row"), matrix[ordered["_row"].to_numpy()], out)
    return len(ordered)
