"""`litthemes init` and the pieces of the new-study loop that need no workflow run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from litthemes.cli import main
from litthemes.codebook import load_codebook
from litthemes.config import Settings, load
from litthemes.report.fit import fit_checks
from litthemes.study import commented_yaml
from litthemes.topics.documents import surface_forms, surface_terms
from litthemes.topics.draft import merge_topics

ROOT = Path(__file__).resolve().parents[2]


def test_init_writes_a_valid_study_whose_every_output_is_inside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    export = tmp_path / "my export.csv"
    export.write_text("title,abstract,year\nA,B,2020\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["init", "studies/mine", "--from", str(export)])
    assert result.exit_code == 0, result.output
    settings = load("studies/mine/config.yaml")
    assert settings.study == "mine" and settings.inputs == ["studies/mine/exports/my export.csv"]
    assert (tmp_path / "studies/mine/exports/my export.csv").read_bytes() == export.read_bytes()
    paths = [
        settings.codebook,
        settings.interim_dir,
        settings.processed_dir,
        settings.reports_dir,
        settings.logs_dir,
        settings.ingest.cache_dir,
        settings.ingest.openalex.cache_dir,
        settings.segment.cache_dir,
        settings.embed.cache_dir,
        settings.code.cache_dir,
    ]
    assert all(p.startswith("studies/mine/") for p in paths), paths
    # Nothing of the micro-credentials study carries over.
    assert settings.ingest.openalex.query == "" and settings.topics.extra_stop_words == []
    assert settings.report.title == "mine: what the literature says"
    assert load_codebook("studies/mine/codebook.yaml").name == "mine"
    assert "snakemake --cores 2 --configfile studies/mine/config.yaml" in Path("studies/mine/README.md").read_text()
    again = CliRunner().invoke(main, ["init", "studies/mine"])
    assert again.exit_code == 2 and "exists already" in again.output


def test_the_commented_config_reads_back_as_the_same_settings() -> None:
    settings = load(ROOT / "config" / "config.yaml")
    text = commented_yaml(settings)
    assert "# Figures, tables and the brief." in text
    assert Settings.model_validate(yaml.safe_load(text)) == settings


def test_near_duplicate_topics_merge_without_chaining() -> None:
    base = np.array([1.0, 0.0, 0.0])
    centroids = {
        0: base,
        1: base + np.array([0, 0.2, 0]),
        2: base + np.array([0, 0.45, 0]),
        3: np.array([0.0, 0.0, 1.0]),
    }
    # 0~1 and 1~2 are near-duplicates, 0~2 is not: complete linkage keeps 2 apart.
    assert merge_topics(centroids, 0.97) == [[0, 1], [2], [3]]
    assert merge_topics(centroids, 0.999) == [[0], [1], [2], [3]]


def test_topic_terms_are_shown_as_the_text_says_them() -> None:
    segments = pd.DataFrame(
        {
            "text": ["Data science and data literacy.", "The data were messy.", "Machine learning, e.g. here."],
            "lemmas": ["datum science and datum literacy", "the datum be messy", "machine learn e.g. here"],
        }
    )
    forms = surface_forms(segments, {"datum", "learn"})
    # The third segment does not line up word for word ("e.g."), so "learn" is not seen.
    assert forms == {"datum": "data"}
    assert surface_terms(["datum science", "datum literacy", "datum"], forms) == [
        "data science",
        "data literacy",
        "data",
    ]


def test_fit_checks_warn_with_numbers_only_where_the_codebook_does_not_fit() -> None:
    codes = pd.DataFrame({"record_id": ["a", "a", "b", "c"], "present": [True, False, False, False]})
    topics = pd.DataFrame({"topic": [-1, 0, 1, 2], "emergent": [False, True, True, False]})
    fits = fit_checks(3, codes, topics, {"domain": {"documents_in_domain": 0.8}})
    # Two of three records carry no theme (67%): one warning; 2 of 3 topics emergent: another.
    assert fits["records_without_theme"] == pytest.approx(2 / 3, abs=1e-6)
    assert [w.split(" ")[0] for w in fits["warnings"]] == ["67%", "2"] and not fits["fits"]
    off = fit_checks(
        3, codes.assign(present=True), topics.assign(emergent=False), {"domain": {"documents_in_domain": 0.2}}
    )
    assert len(off["warnings"]) == 1 and off["warnings"][0].startswith("Only 20% of the documents")
    assert fit_checks(3, codes.assign(present=True), topics.assign(emergent=False), {})["fits"]


def test_fit_checks_warn_of_a_theme_that_every_record_mentions() -> None:
    records = [f"r{i}" for i in range(40)]
    codes = pd.DataFrame(
        {
            "record_id": records * 2,
            "theme": ["digitalization_of_learning"] * 40 + ["assessment_practices"] * 40,
            # digitalisation in 38 of 40 records (95%), assessment in 35 of 40 (88%, under the bar).
            "present": [i < 38 for i in range(40)] + [i < 35 for i in range(40)],
        }
    )
    topics = pd.DataFrame({"topic": [0], "emergent": [False]})
    checks = fit_checks(40, codes, topics, {"domain": {"documents_in_domain": 0.9}})
    assert checks["ubiquitous_themes"] == {"digitalization_of_learning": pytest.approx(0.95)}
    assert len(checks["warnings"]) == 1 and checks["warnings"][0].startswith("38 of 40 records (95%) mention")
    # Twenty records at least: in a handful of records every theme may be mentioned everywhere.
    few = codes[codes["record_id"].isin(records[:10])].assign(present=True)
    assert fit_checks(10, few, topics, {})["ubiquitous_themes"] == {}
