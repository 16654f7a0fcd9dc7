"""A study whose export has no publication year (an ASReview-style CSV: title, abstract,
label) runs to the end, says why it shows no trend, and its notebooks open."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from workflow_helpers import offline_env

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.corpora]


def test_a_study_without_years_runs_and_its_notebooks_open(corpora: Path, tmp_path: Path, embed_cache: str) -> None:
    with open(corpora / "labelled" / "asreview-nudging" / "nudging.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))[:120]
    assert "year" not in rows[0]
    export = tmp_path / "screened.csv"
    with open(export, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    env = offline_env()
    run = [sys.executable, "-m", "litthemes", "init", "nudge", "--from", str(export)]
    assert subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, env=env).returncode == 0
    config_path = tmp_path / "nudge" / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["embed"]["cache_dir"] = embed_cache
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))

    command = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--cores", "2"]
    done = subprocess.run(
        [*command, "--configfile", "nudge/config.yaml"], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr[-4000:]
    brief = (tmp_path / "nudge" / "reports" / "brief.html").read_text()
    assert "No record carries a publication year, so no trend over the years can be measured." in brief

    import nbformat
    from nbclient import NotebookClient

    os.environ["LITTHEMES_CONFIG"] = str(config_path)
    try:
        for name in ("01-corpus.ipynb", "04-trends.ipynb"):
            notebook = nbformat.read(ROOT / "notebooks" / name, as_version=4)
            NotebookClient(notebook, timeout=600, resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
            shown = "".join(str(output) for cell in notebook.cells for output in cell.get("outputs", []))
            assert "No record carries a publication year" in shown, name
    finally:
        del os.environ["LITTHEMES_CONFIG"]
