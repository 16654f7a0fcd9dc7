"""A newcomer's loop: init a study, run it on a real export, draft a codebook from the
topics, run again with it, open the results in a notebook; everything inside the study."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from workflow_helpers import offline_env

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.corpora]


def _snakemake(cwd: Path, config: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--cores", "2", "--configfile", config]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=offline_env(), timeout=1500)


def _litthemes(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "litthemes", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=offline_env(),
        timeout=600,
    )


def _snapshot(folder: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in folder.rglob("*") if p.is_file()} if folder.exists() else {}


def test_a_new_study_from_init_to_notebook(corpora: Path, tmp_path: Path, embed_cache: str) -> None:
    export = corpora / "education-exports" / "dse-citan" / "scopus.csv"
    sample = {name: _snapshot(ROOT / name) for name in ("data", "reports", "logs")}
    done = _litthemes(tmp_path, "init", "dse", "--from", str(export))
    assert done.returncode == 0, done.stderr
    config_path = tmp_path / "dse" / "config.yaml"
    # The shared embedding cache only saves time: vectors are the same from any cache.
    config = yaml.safe_load(config_path.read_text())
    config["embed"]["cache_dir"] = embed_cache
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))

    # 1. The template codebook does not fit this literature, and the console says so.
    first = _snakemake(tmp_path, "dse/config.yaml")
    assert first.returncode == 0, first.stderr[-4000:]
    assert "WARNING (codebook and corpus)" in first.stderr
    assert (tmp_path / "dse" / "reports" / "brief.html").exists()

    # 2. A codebook drafted from the topics, promoted, and run.
    done = _litthemes(tmp_path, "codebook", "draft", "--config", "dse/config.yaml", "--out", "dse/codebook.draft.yaml")
    assert done.returncode == 0, done.stderr
    draft = yaml.safe_load((tmp_path / "dse" / "codebook.draft.yaml").read_text())
    assert len(draft["codes"]) >= 5 and all(code["examples"] and code["include"]["terms"] for code in draft["codes"])
    # The background's titles come from other records than the examples: a passage sits
    # closer to its own record's title than to any other, which would set the fit check's
    # bar (how close the examples come to the background) above the rest of the corpus.
    segments = pd.read_parquet(tmp_path / "dse" / "data" / "interim" / "segments.parquet")
    records = pd.read_parquet(tmp_path / "dse" / "data" / "interim" / "records.parquet").set_index("record_id")
    examples = {text for code in draft["codes"] for text in code["examples"]}
    sources = set(segments.loc[segments["text"].isin(examples), "record_id"])
    assert sources and not set(records.loc[sorted(sources), "title"]) & set(draft["background"])
    shutil.copy(tmp_path / "dse" / "codebook.draft.yaml", tmp_path / "dse" / "codebook.yaml")
    second = _snakemake(tmp_path, "dse/config.yaml")
    assert second.returncode == 0, second.stderr[-4000:]
    fit = yaml.safe_load((tmp_path / "dse" / "reports" / "fit_check.json").read_text())
    assert fit["documents_in_domain"] > 0.5 and fit["emergent_topics"] < fit["topics"] / 2
    # The brief is this study's: its title, and no figure of a dimension or group the
    # drafted codebook (themes only) does not have.
    brief = (tmp_path / "dse" / "reports" / "brief.html").read_text()
    assert "<title>dse: what the literature says</title>" in brief
    assert "fig-theme_prevalence" in brief and "The themes together" in brief
    for absent in ("theme_by_credential_type", "theme_by_stakeholder", "terminology_shift", "opportunity_risk"):
        assert f"fig-{absent}" not in brief

    # 3. A notebook opens this study's results (LITTHEMES_CONFIG), not the sample's.
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(ROOT / "notebooks" / "03-topics-and-emergent-themes.ipynb", as_version=4)
    os.environ["LITTHEMES_CONFIG"] = str(config_path)
    try:
        NotebookClient(notebook, timeout=600, resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    finally:
        del os.environ["LITTHEMES_CONFIG"]
    shown = "".join(str(output) for cell in notebook.cells for output in cell.get("outputs", []))
    # The study's codebook, and its drafted codes among the topics' aligned themes (which of
    # them aligns with a topic moves with the topic fit, so any one of them will do).
    assert "dse v0.1.0" in shown
    assert any(code["id"] in shown for code in draft["codes"])

    # Everything inside the study folder (Snakemake's own state aside); the sample untouched.
    assert sorted(p.name for p in tmp_path.iterdir()) == [".snakemake", "dse"]
    assert {name: _snapshot(ROOT / name) for name in ("data", "reports", "logs")} == sample
