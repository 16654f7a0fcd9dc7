"""Each figure is drawn from the tables it declares, so each figure job can wait for those alone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from litthemes.captions import FIGURE_CAPTIONS, FIGURE_TABLES, figure_tables
from litthemes.figures.run import run_figures


def _settings(project: Path) -> tuple[dict[str, object], str]:
    config = yaml.safe_load((project / "config" / "config.yaml").read_text(encoding="utf-8"))
    return {**config["figures"], "formats": ["svg"]}, config["study"]


@pytest.mark.slow
def test_each_figure_needs_only_the_tables_it_declares(workflow_run: Path, tmp_path: Path) -> None:
    trends = workflow_run / "data" / "processed" / "trends"
    topics = workflow_run / "data" / "processed" / "topics.parquet"
    codebook = str(workflow_run / "config" / "codebook.yaml")
    settings, study = _settings(workflow_run)
    assert set(FIGURE_TABLES) == set(FIGURE_CAPTIONS)
    for name in FIGURE_TABLES:
        # A trends folder holding only what the figure declares (and the footer's table).
        declared = tmp_path / name / "trends"
        declared.mkdir(parents=True)
        for table in figure_tables([name]):
            if table != "topics":
                shutil.copy(trends / f"{table}.parquet", declared)
        topic_path = str(topics) if "topics" in FIGURE_TABLES[name] else None
        alone = run_figures(
            str(declared), topic_path, codebook, str(tmp_path / name / "alone"), study, settings, only=[name]
        )
        everything = run_figures(
            str(trends), str(topics), codebook, str(tmp_path / name / "all"), study, settings, only=[name]
        )
        assert [Path(p).name for p in alone] == [f"{name}.svg"]
        assert Path(alone[0]).read_bytes() == Path(everything[0]).read_bytes(), name


@pytest.mark.slow
def test_the_topic_figures_ask_for_the_topic_table(workflow_run: Path, tmp_path: Path) -> None:
    from litthemes.cli import main

    trends = str(workflow_run / "data" / "processed" / "trends")
    codebook = str(workflow_run / "config" / "codebook.yaml")
    with pytest.raises(ValueError, match="topic table"):
        run_figures(trends, None, codebook, str(tmp_path), "study", {"formats": ["svg"]}, only=["topics"])
    result = CliRunner().invoke(
        main,
        ["figures", "--trends-dir", trends, "--codebook", codebook, "--out-dir", str(tmp_path), "--only", "topics"],
    )
    assert result.exit_code == 2 and "--topics" in result.output
    # Figures of the coding alone are drawn without it.
    result = CliRunner().invoke(
        main,
        [
            "figures",
            "--trends-dir",
            trends,
            "--codebook",
            codebook,
            "--out-dir",
            str(tmp_path),
            "--only",
            "theme_trends",
            "--settings",
            '{"formats": ["svg"]}',
        ],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "theme_trends.svg").exists()
