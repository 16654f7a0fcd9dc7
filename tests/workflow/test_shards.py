"""Sharded per-record stages: the same tables as an unsharded run, byte for byte."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from litthemes.embed import row_dot
from litthemes.shards import gather_tables, order_rows, parse_shard, select_shard, shard_of
from litthemes.tables import SEGMENTS, write_table
from workflow_helpers import run_snakemake


def test_shard_spec_is_checked() -> None:
    assert parse_shard("2/5") == (2, 5)
    for bad in ("5/5", "-1/3", "1", "a/b", "0/0"):
        with pytest.raises(ValueError, match="shard"):
            parse_shard(bad)


def test_every_record_lands_in_exactly_one_shard() -> None:
    records = pd.DataFrame({"record_id": [f"r{i}" for i in range(500)]})
    parts = [select_shard(records, (k, 4)) for k in range(4)]
    ids = [rid for part in parts for rid in part["record_id"]]
    assert sorted(ids) == sorted(records["record_id"]) and len(ids) == len(set(ids))
    assert min(len(p) for p in parts) > 80  # the hash spreads records evenly enough
    # A record's shard depends on its id only, not on the other records.
    assert shard_of("r7", 4) == next(k for k, p in enumerate(parts) if "r7" in set(p["record_id"]))


def test_gather_restores_record_order(tmp_path: Path) -> None:
    rows = [
        {
            "record_id": rid,
            "segment_index": i,
            "field": "abstract",
            "start_char": 0,
            "end_char": 1,
            "text": f"{rid}-{i}",
            "lemmas": "",
        }
        for rid in ("c", "a", "b")
        for i in range(2)
    ]
    frame = pd.DataFrame(rows)
    order = {"c": 0, "a": 1, "b": 2}
    paths = []
    for k, part in enumerate([frame[frame["record_id"] == "b"], frame[frame["record_id"] != "b"]]):
        paths.append(str(tmp_path / f"{k}.parquet"))
        write_table(part, paths[-1], SEGMENTS, "segments")
    gather_tables(paths, SEGMENTS, "segments", str(tmp_path / "all.parquet"), order)
    assert pd.read_parquet(tmp_path / "all.parquet")["text"].tolist() == frame["text"].tolist()
    with pytest.raises(ValueError, match="not an included record"):
        order_rows(frame, {"c": 0, "a": 1})


def test_semantic_scores_do_not_depend_on_the_other_rows() -> None:
    rng = np.random.default_rng(3)
    rows, others = (
        rng.standard_normal((1000, 384)).astype(np.float32),
        rng.standard_normal((40, 384)).astype(np.float32),
    )
    full = row_dot(rows, others)
    assert np.array_equal(full[17:20], row_dot(rows[17:20], others))
    assert np.allclose(full, rows @ others.T, atol=1e-4)


def _digests(project: Path) -> dict[str, str]:
    paths = sorted((project / "data" / "processed").rglob("*.parquet")) + sorted(
        (project / "reports" / "tables").glob("*.csv")
    )
    paths += [
        project / "reports" / "brief.html",
        project / "data" / "interim" / "segments.parquet",
        project / "data" / "interim" / "segment_embeddings.parquet",
    ]
    return {str(p.relative_to(project)): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


@pytest.mark.slow
def test_sharded_run_gives_the_unsharded_tables(workflow_run: Path, tmp_path: Path) -> None:
    project = tmp_path / "sharded"
    project.mkdir()
    for name in ("seed.tsv", "extra.csv"):
        shutil.copy(workflow_run / name, project / name)
    shutil.copytree(workflow_run / "config", project / "config")
    config = yaml.safe_load((project / "config" / "config.yaml").read_text())
    config["shards"] = 3
    (project / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    result = run_snakemake(project)
    assert result.returncode == 0, result.stderr[-4000:]
    assert len(list((project / "data" / "interim" / "shards").glob("*/codes.parquet"))) == 3
    assert _digests(project) == _digests(workflow_run)
