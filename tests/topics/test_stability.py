"""What the workflow does after the topic fit: the stability check, added after the refits,
and the alignment, which the trends job does not wait for."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from litthemes.cli import main
from litthemes.topics.refits import run_refits
from litthemes.topics.run import run
from workflow_helpers import run_snakemake

pytestmark = pytest.mark.slow


def test_stability_added_after_the_fit_gives_the_one_step_fit(workflow_run: Path, tmp_path: Path) -> None:
    interim = workflow_run / "data" / "interim"
    processed = workflow_run / "data" / "processed"
    config = yaml.safe_load((workflow_run / "config" / "config.yaml").read_text())
    refits = sorted(str(p) for p in (interim / "topic_refits").glob("run-*.parquet"))
    assert len(refits) == config["topics"]["stability_runs"] - 1
    out = {
        name: tmp_path / name
        for name in ("topics.parquet", "doc_topics.parquet", "summary.json", "hierarchy.csv", "model.parquet")
    }
    summary = run(
        str(interim / "records.parquet"),
        str(interim / "segments.parquet"),
        str(interim / "document_embeddings.parquet"),
        str(out["topics.parquet"]),
        str(out["doc_topics.parquet"]),
        str(out["summary.json"]),
        str(out["hierarchy.csv"]),
        config["topics"],
        config["embed"],
        refits,
        str(out["model.parquet"]),
    )
    assert summary["stability"]["runs"] == 2 and 0.0 <= summary["stability"]["ari_mean"] <= 1.0
    # The workflow fitted without the check (topics --stability-later) and added it in
    # topic_stability; every table must be what one call with the refits writes.
    workflow = {
        "topics.parquet": interim / "topics_fit.parquet",
        "doc_topics.parquet": processed / "doc_topics.parquet",
        "summary.json": interim / "topic_fit.json",
        "hierarchy.csv": processed / "topic_hierarchy.csv",
        "model.parquet": processed / "topic_model.parquet",
    }
    for name, path in workflow.items():
        assert path.read_bytes() == out[name].read_bytes(), name
    assert json.loads(workflow["summary.json"].read_text())["stability"] == summary["stability"]


def test_the_fit_does_not_wait_for_the_refits(workflow_run: Path) -> None:
    dot = run_snakemake(workflow_run, "--dag", "--forceall")
    assert dot.returncode == 0, dot.stderr[-2000:]
    names = dict(re.findall(r'^\s*(\d+)\[label = "([a-z_0-9]+)', dot.stdout, re.MULTILINE))
    edges = [(names[a], names[b]) for a, b in re.findall(r"^\s*(\d+) -> (\d+)", dot.stdout, re.MULTILINE)]
    assert ("topic_refits", "topic_stability") in edges and ("topics", "topic_stability") in edges
    assert ("topic_refits", "topics") not in edges
    # The topic trends read the fit's terms and labels: they wait for the fit only.
    assert ("topics", "topic_trends") in edges and ("topic_stability", "topic_trends") not in edges


def test_a_refit_alone_writes_what_it_writes_after_another(workflow_run: Path, tmp_path: Path) -> None:
    interim = workflow_run / "data" / "interim"
    topics = yaml.safe_load((workflow_run / "config" / "config.yaml").read_text())["topics"]
    inputs = [str(interim / name) for name in ("records.parquet", "segments.parquet", "document_embeddings.parquet")]
    together = run_refits(*inputs, {1: str(tmp_path / "1.parquet"), 2: str(tmp_path / "2.parquet")}, topics)
    alone = run_refits(*inputs, {2: str(tmp_path / "2-alone.parquet")}, topics)
    assert list(together) == [1, 2] and alone == {2: together[2]} and together[2] > 0
    assert (tmp_path / "2-alone.parquet").read_bytes() == (tmp_path / "2.parquet").read_bytes()
    # The workflow's refit job wrote refit 1 the same way.
    assert (tmp_path / "1.parquet").read_bytes() == (interim / "topic_refits" / "run-1.parquet").read_bytes()


def test_nmf_refits_share_one_bertopic_fit_for_their_topic_count(
    workflow_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import litthemes.topics.refits as topic_run

    interim = workflow_run / "data" / "interim"
    topics = {**yaml.safe_load((workflow_run / "config" / "config.yaml").read_text())["topics"], "method": "nmf"}
    inputs = [str(interim / name) for name in ("records.parquet", "segments.parquet", "document_embeddings.parquet")]
    fits = []
    fit = topic_run.fit_bertopic
    monkeypatch.setattr(topic_run, "fit_bertopic", lambda *a, **k: fits.append(1) or fit(*a, **k))
    together = run_refits(*inputs, {1: str(tmp_path / "1.parquet"), 2: str(tmp_path / "2.parquet")}, topics)
    assert len(fits) == 1 and together[1] > 0
    run_refits(*inputs, {2: str(tmp_path / "2-alone.parquet")}, topics)
    assert (tmp_path / "2-alone.parquet").read_bytes() == (tmp_path / "2.parquet").read_bytes()


def test_topic_refit_wants_one_out_per_run(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "topic-refit",
            "r.parquet",
            "s.parquet",
            "v.parquet",
            "--run",
            "1",
            "--run",
            "2",
            "--out",
            str(tmp_path / "one.parquet"),
        ],
    )
    assert result.exit_code == 2 and "2 --run but 1 --out" in result.output
    result = CliRunner().invoke(
        main,
        [
            "topic-refit",
            "r.parquet",
            "s.parquet",
            "v.parquet",
            "--run",
            "1",
            "--run",
            "1",
            "--out",
            str(tmp_path / "one.parquet"),
            "--out",
            str(tmp_path / "two.parquet"),
        ],
    )
    assert result.exit_code == 2 and "--run 1 given twice" in result.output
    assert not list(tmp_path.iterdir())


def test_alignment_keeps_the_fitted_terms_and_labels(workflow_run: Path) -> None:
    # The trends job reads the fitted topics instead of the aligned ones (so that it need
    # not wait for the alignment): what it reads must be what the alignment passes on.
    fitted = pd.read_parquet(workflow_run / "data" / "interim" / "topics_fit.parquet")
    aligned = pd.read_parquet(workflow_run / "data" / "processed" / "topics.parquet")
    assert len(fitted) > 1
    columns = ["topic", "size", "label", "top_terms", "stability", "stable", "representative_records"]
    pd.testing.assert_frame_equal(fitted[columns], aligned[columns])
    # The topic trends job reads the fit before its stability check: the same terms and labels.
    unchecked = pd.read_parquet(workflow_run / "data" / "interim" / "topics_fit_unchecked.parquet")
    columns = ["topic", "size", "label", "top_terms", "representative_records"]
    pd.testing.assert_frame_equal(unchecked[columns], fitted[columns])
