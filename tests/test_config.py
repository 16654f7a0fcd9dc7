"""The validated config: errors name the key; the schema file and captions stay in step."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from litthemes.cli import main
from litthemes.config import ConfigError, json_schema, load, validate

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_config_is_valid_and_every_key_is_commented() -> None:
    settings = load(ROOT / "config" / "config.yaml")
    assert settings.codebook == "config/codebook.yaml"
    import re

    lines = (ROOT / "config" / "config.yaml").read_text().splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^\s*[a-z_]+:", line):
            assert lines[i - 1].strip().startswith("#"), f"config key without a comment: {line.strip()}"


def test_invalid_values_name_the_key_and_what_is_allowed() -> None:
    data = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    data["topics"]["method"] = "lda2vec"
    data["code"]["lexical_weight"] = 3
    data["segment"]["modle"] = "x"
    with pytest.raises(ConfigError) as info:
        validate(data)
    text = str(info.value)
    assert "topics.method" in text and "'bertopic' or 'nmf'" in text
    assert "code.lexical_weight" in text and "less than or equal to 1" in text
    assert "segment.modle" in text and "unknown key" in text


def test_schema_file_matches_the_models() -> None:
    on_disk = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    assert on_disk == json_schema(), "run `litthemes schema` after changing litthemes.config"
    validator = Draft202012Validator(on_disk)
    data = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    assert not list(validator.iter_errors(data))
    data["trends"]["alpha"] = 2
    assert list(validator.iter_errors(data))


def test_codebook_schema_file_matches_the_model() -> None:
    from litthemes.codebook import codebook_json_schema

    on_disk = yaml.safe_load((ROOT / "workflow" / "schemas" / "codebook.schema.yaml").read_text())
    assert on_disk == codebook_json_schema(), "run `litthemes schema` after changing litthemes.codebook"
    validator = Draft202012Validator(on_disk)
    book = yaml.safe_load((ROOT / "config" / "codebook.yaml").read_text())
    assert not list(validator.iter_errors(book))
    book["codes"][0]["colour"] = "blue"
    assert list(validator.iter_errors(book))


def test_report_captions_match_the_package() -> None:
    from litthemes.figures.draw import CAPTIONS, FIGURES
    from litthemes.figures.tables import TABLE_CAPTIONS

    # The workflow names the figure files from the captions, in the order the figures are drawn.
    assert list(CAPTIONS) == list(FIGURES)
    for name, caption in CAPTIONS.items():
        assert (ROOT / "workflow" / "report" / "figures" / f"{name}.rst").read_text().strip() == caption
    for name, caption in TABLE_CAPTIONS.items():
        assert (ROOT / "workflow" / "report" / "tables" / f"{name}.rst").read_text().strip() == caption


def test_a_stage_given_settings_its_section_refuses_ends_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "figures",
            "--trends-dir",
            str(tmp_path),
            "--out-dir",
            str(tmp_path),
            "--codebook",
            str(ROOT / "config" / "codebook.yaml"),
            "--only",
            "corpus_by_year",
            "--settings",
            '{"dpi": 10}',
        ],
    )
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.strip().splitlines() == [
        "error: --settings (FigureSettings): dpi: Input should be greater than or equal to 72"
    ]


def test_cli_check_reports_errors(tmp_path: Path) -> None:
    bad = tmp_path / "config.yaml"
    bad.write_text("inputs: []\ntopics: {method: lda}\n")
    result = CliRunner().invoke(main, ["check", str(bad)])
    assert result.exit_code == 2
    assert "inputs" in result.output and "topics.method" in result.output
