"""Per-record caches: what is stored comes back, only for the same namespace, and goes when pruned."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import yaml

from litthemes.cache import (
    KEY,
    MAX_PARTS,
    RecordCache,
    compact,
    content_key,
    find_entries,
    prune,
    read_parts,
)

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
    pd.testing.assert_frame_equal(
        before.sort_values(order).reset_index(drop=True), after.sort_values(order).reset_index(drop=True)
    )
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


# --- Pruning: what no run has used for a while goes, what the last run used stays. ---

DAY = 86400.0


def _age(path: Path, days: float, now: float) -> None:
    os.utime(path, (now - days * DAY, now - days * DAY))


def _bib(path: Path, title: str) -> str:
    path.write_text(
        f"@article{{a1, title={{{title}}}, author={{Doe, Jane}}, year={{2021}},"
        " abstract={{Badges in higher education.}}}\n",
        encoding="utf-8",
    )
    return str(path)


def _filled_caches(tmp_path: Path) -> tuple[dict[str, Path], list[str]]:
    """Caches laid out as a run leaves them: two codebook versions' codes, two models'
    vectors, two versions of one export and one file no longer read."""
    from litthemes.embed import EmbeddingCache
    from litthemes.ingest import read_normalized

    roots = {
        "ingest": tmp_path / "ingest",
        "segments": tmp_path / "segments",
        "codes": tmp_path / "codes",
        "embeddings": tmp_path / "embeddings",
    }
    rows = pd.DataFrame({KEY: ["k1"], "record_id": ["a"], "n": [1]})
    for stage, root in (("segments", roots["segments"]), ("segment_codes", roots["codes"])):
        for version in (1, 2):
            RecordCache(root, stage, SCHEMA, {"codebook": version}).add(rows, ["k1"])
    for model in ("model-a", "model-b"):
        EmbeddingCache(roots["embeddings"], model, "shape").add(["h1"], np.ones((1, 4), dtype=np.float32))
    export = tmp_path / "export.bib"
    for title in ("First version", "Second version"):
        read_normalized(_bib(export, title), "auto", {}, str(roots["ingest"]))
    read_normalized(_bib(tmp_path / "dropped.bib", "Dropped"), "auto", {}, str(roots["ingest"]))
    return roots, [str(export)]


def test_entries_of_every_cache_are_found_with_their_kind_and_size(tmp_path: Path) -> None:
    roots, inputs = _filled_caches(tmp_path)
    entries = find_entries(roots, inputs)
    kinds = [e.kind for e in entries]
    assert kinds == sorted(["embeddings"] * 2 + ["ingest"] * 3 + ["segment_codes"] * 2 + ["segments"] * 2)
    assert all(e.files >= 1 and e.size > 0 for e in entries)
    # The versions of the export read now are alternatives; the dropped file's entry is not.
    ingest = [e for e in entries if e.kind == "ingest"]
    assert sum(e.group is None for e in ingest) == 1
    # Nested roots (one folder for every cache) list each entry once.
    assert len(find_entries({**roots, "all": tmp_path}, inputs)) == len(entries)


def test_tuned_encoders_are_entries_and_the_unused_ones_go_whole(tmp_path: Path) -> None:
    """Encoders tuned on human codes (code.tune_epochs, ~90 MB each) are listed and pruned
    like the other caches: the one used last stays, an old one goes with all its files."""
    roots = {"codes": tmp_path / "codes"}
    now = time.time()
    folders = []
    for name, days in (("old", 40), ("last", 35)):
        folder = roots["codes"] / "encoders" / name
        (folder / "1_Pooling").mkdir(parents=True)
        for file in ("modules.json", "model.safetensors", "1_Pooling/config.json"):
            (folder / file).write_text("{}", encoding="utf-8")
        _age(folder, days, now)
        folders.append(folder)
    entries = find_entries(roots)
    assert [(e.kind, e.path.name, e.files) for e in entries] == [("encoders", "last", 3), ("encoders", "old", 3)]
    removed = prune(entries, 30, now)
    assert [e.path for e in removed] == [folders[0]]
    assert not folders[0].exists() and (folders[1] / "model.safetensors").exists()


def test_prune_removes_what_no_run_used_for_the_period_but_keeps_each_stages_last_entry(tmp_path: Path) -> None:
    from litthemes.embed import EmbeddingCache
    from litthemes.ingest import read_normalized

    roots, inputs = _filled_caches(tmp_path)
    now = time.time()
    entries = find_entries(roots, inputs)
    # Everything unused for 40 days, except the second codebook version's codes (used 2 days ago).
    current_codes = RecordCache(roots["codes"], "segment_codes", SCHEMA, {"codebook": 2}).dir
    for entry in entries:
        _age(entry.path, 2 if entry.path == current_codes else 40, now)
    # The newest of two equally old entries is the one used last: make it well defined.
    model_b = EmbeddingCache(roots["embeddings"], "model-b", "shape").dir
    _age(model_b, 39, now)
    stranger = roots["codes"] / "notes.txt"
    stranger.write_text("mine", encoding="utf-8")
    entries = find_entries(roots, inputs)

    planned = prune(entries, 30, now, dry_run=True)
    assert all(e.path.exists() for e in entries)  # a dry run removes nothing
    removed = prune(entries, 30, now)
    assert [e.path for e in removed] == [e.path for e in planned]
    left = {e.path for e in find_entries(roots, inputs)}
    assert left == {e.path for e in entries} - {e.path for e in removed}
    # Per stage the entry used last stays, however old: the current codebook's codes, the
    # model used last, the export's last version; the other versions go, as does the
    # entry of a file that is no longer an input.
    by_kind = {
        kind: [e for e in find_entries(roots, inputs) if e.kind == kind]
        for kind in ("segments", "segment_codes", "embeddings", "ingest")
    }
    assert [e.path for e in by_kind["segment_codes"]] == [current_codes]
    assert [e.path for e in by_kind["embeddings"]] == [model_b]
    assert len(by_kind["segments"]) == 1 and len(by_kind["ingest"]) == 1
    assert stranger.exists()
    # What was pruned is computed again; what stayed is still found.
    assert RecordCache(roots["codes"], "segment_codes", SCHEMA, {"codebook": 1}).load(["k1"])[1] == set()
    assert RecordCache(roots["codes"], "segment_codes", SCHEMA, {"codebook": 2}).load(["k1"])[1] == {"k1"}
    result, _ = read_normalized(inputs[0], "auto", {}, str(roots["ingest"]))
    assert result.notes is not None and len(result.records) == 1
    # Nothing unused for longer than a year: nothing goes.
    assert prune(find_entries(roots, inputs), 365, now) == []


def test_lookups_mark_what_they_used(tmp_path: Path) -> None:
    from litthemes.embed import EmbeddingCache
    from litthemes.ingest import read_normalized

    roots, inputs = _filled_caches(tmp_path)
    now = time.time()
    for entry in find_entries(roots, inputs):
        _age(entry.path, 40, now)
    RecordCache(roots["segments"], "segments", SCHEMA, {"codebook": 1}).load(["k1"])
    EmbeddingCache(roots["embeddings"], "model-a", "shape").load({"h1"})
    read_normalized(inputs[0], "auto", {}, str(roots["ingest"]))  # the export's second version
    fresh = [e for e in find_entries(roots, inputs) if e.unused_days(time.time()) < 1]
    assert {e.path for e in fresh if e.kind != "ingest"} == {
        RecordCache(roots["segments"], "segments", SCHEMA, {"codebook": 1}).dir,
        EmbeddingCache(roots["embeddings"], "model-a", "shape").dir,
    }
    # Of the ingest entries, the export's version on disk now.
    assert [e.group is not None for e in fresh if e.kind == "ingest"] == [True]


def test_cache_commands_list_and_prune(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from litthemes.cli import main

    roots, inputs = _filled_caches(tmp_path)
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "inputs": inputs,
                "ingest": {"cache_dir": str(roots["ingest"])},
                "segment": {"cache_dir": str(roots["segments"])},
                "code": {"cache_dir": str(roots["codes"])},
                "embed": {"cache_dir": str(roots["embeddings"])},
            }
        ),
        encoding="utf-8",
    )
    now = time.time()
    for entry in find_entries(roots, inputs):
        _age(entry.path, 40, now)
    status = CliRunner().invoke(main, ["cache", "status", "--config", str(config)])
    assert status.exit_code == 0, status.output
    assert "9 entries" in status.output and "segment_codes" in status.output
    dry = CliRunner().invoke(main, ["cache", "prune", "--config", str(config), "--unused-for", "30", "--dry-run"])
    assert dry.exit_code == 0 and "would remove 5 entries" in dry.output, dry.output
    assert len(find_entries(roots, inputs)) == 9
    done = CliRunner().invoke(main, ["cache", "prune", "--config", str(config), "--unused-for", "30"])
    assert done.exit_code == 0 and "removed 5 entries" in done.output, done.output
    assert len(find_entries(roots, inputs)) == 4
    missing = CliRunner().invoke(main, ["cache", "prune", "--config", str(config)])
    assert missing.exit_code != 0 and "--unused-for" in missing.output
