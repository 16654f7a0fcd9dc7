"""Per-record caches: what is stored comes back, and only for the same namespace."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa

from litthemes.cache import KEY, RecordCache, content_key

SCHEMA = pa.schema([("record_id", pa.string()), ("n", pa.int64())])


def test_rows_come_back_by_key_and_empty_records_are_remembered(tmp_path: Path) -> None:
    cache = RecordCache(tmp_path, "stage", SCHEMA, {"setting": 1})
    rows = pd.DataFrame({KEY: ["k1", "k1", "k2"], "record_id": ["a", "a", "b"], "n": [1, 2, 3]})
    cache.add(rows, ["k1", "k2", "k3"])  # k3: a record that produced no rows
    got, found = cache.load(["k1", "k3", "k4"])
    assert found == {"k1", "k3"}
    assert got["n"].tolist() == [1, 2] and str(got["n"].dtype) == "int64"
    # Another namespace (other settings) sees nothing.
    assert RecordCache(tmp_path, "stage", SCHEMA, {"setting": 2}).load(["k1"])[1] == set()


def test_a_record_stored_twice_comes_back_once(tmp_path: Path) -> None:
    cache = RecordCache(tmp_path, "stage", SCHEMA, {})
    cache.add(pd.DataFrame({KEY: ["k1"], "record_id": ["a"], "n": [1]}), ["k1"])
    cache.add(pd.DataFrame({KEY: ["k1", "k2"], "record_id": ["a", "b"], "n": [1, 2]}), ["k1", "k2"])
    got, found = cache.load(["k1", "k2"])
    assert found == {"k1", "k2"} and sorted(got["record_id"]) == ["a", "b"]


def test_content_key_changes_with_content() -> None:
    assert content_key("a", "title") == content_key("a", "title")
    assert content_key("a", "title") != content_key("a", "title.")
