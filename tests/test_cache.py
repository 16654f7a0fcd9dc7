"""Per-record caches: what is stored comes back, and only for the same namespace."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa

from litthemes.cache import KEY, MAX_PARTS, RecordCache, compact, content_key, read_parts

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


def test_small_parts_past_the_limit_are_merged_and_lookups_find_the_same_rows(tmp_path: Path) -> None:
    cache = RecordCache(tmp_path, "stage", SCHEMA, {})
    # Two large parts (a first run's shards), then small ones (records added later); one
    # key stored twice.
    for shard in range(2):
        keys = [f"big{shard}-{i}" for i in range(300)]
        cache.add(pd.DataFrame({KEY: keys, "record_id": keys, "n": range(300)}), keys)
    big = sorted(cache.dir.glob("part-*.parquet"))
    for i in range(MAX_PARTS - 2):
        keys = [f"k{i}", "shared"] if i in (2, 4) else [f"k{i}"]
        rows = pd.DataFrame({KEY: [f"k{i}", f"k{i}"], "record_id": [f"r{i}", f"r{i}"], "n": [i, i + 100]})
        if "shared" in keys:
            rows = pd.concat([rows, pd.DataFrame({KEY: ["shared"], "record_id": ["s"], "n": [-1]})])
        cache.add(rows, keys)
    wanted = [f"k{i}" for i in range(MAX_PARTS + 1)] + ["big0-7", "big1-299", "shared", "nowhere"]
    before, found_before = cache.load(wanted)
    assert len(list(cache.dir.glob("part-*.parquet"))) == MAX_PARTS
    cache.add(pd.DataFrame({KEY: [], "record_id": [], "n": []}), [f"k{MAX_PARTS}"])  # a marker only
    # The smallest parts are merged, down to half the limit; the large ones are left alone.
    parts = sorted(cache.dir.glob("part-*.parquet"))
    assert len(parts) == MAX_PARTS // 2 and set(big) <= set(parts)
    after, found_after = cache.load(wanted)
    assert found_after == found_before | {f"k{MAX_PARTS}"}
    order = [KEY, "n"]
    pd.testing.assert_frame_equal(before.sort_values(order).reset_index(drop=True),
                                  after.sort_values(order).reset_index(drop=True))
    # The key stored by two parts comes back once.
    assert after[after[KEY] == "shared"]["n"].tolist() == [-1]


def test_compact_leaves_small_folders_alone(tmp_path: Path) -> None:
    cache = RecordCache(tmp_path, "stage", SCHEMA, {})
    cache.add(pd.DataFrame({KEY: ["k1"], "record_id": ["a"], "n": [1]}), ["k1"])
    assert not compact(cache.dir, KEY)
    assert compact(cache.dir, KEY, max_parts=0)  # one part, merged into one: same rows
    assert cache.load(["k1"])[0]["n"].tolist() == [1]


def test_a_lookup_starts_again_when_its_parts_are_merged_away(tmp_path: Path) -> None:
    calls: list[int] = []

    def read(parts: list[Path]) -> int:
        calls.append(len(parts))
        if len(calls) == 1:
            raise FileNotFoundError("merged away")
        return len(parts)

    (tmp_path / "part-a.parquet").write_bytes(b"")
    assert read_parts(tmp_path, read) == 1
    assert calls == [1, 1]
