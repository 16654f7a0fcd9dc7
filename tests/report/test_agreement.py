"""The brief quotes the codebook's measured agreement with a person's coding only while
it holds: the same codes, the default coding settings, the same embedding model."""

from __future__ import annotations

from pathlib import Path

import pytest

from litthemes.codebook import load_codebook
from litthemes.config import CodeSettings, EmbedSettings
from litthemes.report.brief import codebook_agreement

ROOT = Path(__file__).resolve().parents[2]
BOOK = load_codebook(ROOT / "config" / "codebook.yaml")
DEFAULTS = {"code": CodeSettings().model_dump(), "embed": EmbedSettings().model_dump()}


def test_the_shipped_codebook_with_default_settings_quotes_its_agreement() -> None:
    agreement = codebook_agreement(BOOK, DEFAULTS)
    assert agreement is not None and agreement["holds"] and not agreement["reasons"]
    assert agreement["main_theme"] == f"{BOOK.agreement.main_theme * 100:.0f}%"
    # Settings that do not change the coding leave it standing.
    quiet = {**DEFAULTS, "code": {**DEFAULTS["code"], "cache_dir": "elsewhere", "evidence_per_code": 5}}
    assert codebook_agreement(BOOK, quiet)["holds"]


def test_an_edit_to_the_codes_or_the_settings_says_why_it_no_longer_holds() -> None:
    codes = [code.model_copy(deep=True) for code in BOOK.codes]
    codes[0].include.terms.append("virtual museum")
    edited = BOOK.model_copy(update={"codes": codes})
    assert edited.coding_fingerprint != BOOK.coding_fingerprint
    reasons = codebook_agreement(edited, DEFAULTS)["reasons"]
    assert not codebook_agreement(edited, DEFAULTS)["holds"] and reasons == [
        "the codes have been edited since it was measured"
    ]
    # A new version number or description is no edit to the coding.
    renamed = BOOK.model_copy(update={"version": "9.9.9", "description": "another text"})
    assert renamed.coding_fingerprint == BOOK.coding_fingerprint
    tuned = {**DEFAULTS, "code": {**DEFAULTS["code"], "semantic_weight": 3.0}}
    assert codebook_agreement(BOOK, tuned)["reasons"] == ["this run changes code.semantic_weight"]
    other_model = {**DEFAULTS, "embed": {**DEFAULTS["embed"], "model": "all-mpnet-base-v2"}}
    assert "all-mpnet-base-v2" in codebook_agreement(BOOK, other_model)["reasons"][0]


def test_nothing_is_quoted_without_a_measurement_or_for_a_trained_coder() -> None:
    assert codebook_agreement(BOOK.model_copy(update={"agreement": None}), DEFAULTS) is None
    trained = {**DEFAULTS, "code": {**DEFAULTS["code"], "training": "coded.csv"}}
    assert codebook_agreement(BOOK, trained) is None


def test_a_measurement_made_with_other_settings_holds_for_runs_with_those() -> None:
    measured = BOOK.agreement.model_copy(update={"settings": {"semantic_weight": 3.0}})
    book = BOOK.model_copy(update={"agreement": measured})
    tuned = {**DEFAULTS, "code": {**DEFAULTS["code"], "semantic_weight": 3.0}}
    assert codebook_agreement(book, tuned)["holds"]
    assert codebook_agreement(book, DEFAULTS)["reasons"] == ["this run changes code.semantic_weight"]


def test_the_notebooks_see_the_same_agreement(tmp_path: Path) -> None:
    from litthemes.config import load
    from litthemes.explore import Results

    settings = load(ROOT / "config" / "config.yaml")
    shown = Results(root=tmp_path, settings=settings, codebook=BOOK).agreement()
    assert shown is not None and shown["holds"] and shown["passages"] == BOOK.agreement.passages
    tuned = settings.model_copy(update={"code": settings.code.model_copy(update={"min_share": 0.3})})
    assert Results(root=tmp_path, settings=tuned, codebook=BOOK).agreement()["reasons"] == [
        "this run changes code.min_share"
    ]


def test_a_measurement_of_another_coding_model_does_not_hold() -> None:
    """After an upgrade of litthemes that changes how passages are coded, the figures are old."""
    from litthemes.versions import CODING_MODEL

    older = BOOK.model_copy(update={"agreement": BOOK.agreement.model_copy(update={"coding_model": CODING_MODEL - 1})})
    assert "coding model" in codebook_agreement(older, DEFAULTS)["reasons"][0]


@pytest.mark.slow
def test_the_methods_say_when_the_encoder_was_tuned_on_the_human_codes(workflow_run: Path, tmp_path: Path) -> None:
    import json

    from litthemes.config import load
    from litthemes.report.brief import run

    if not (workflow_run / "data" / "processed" / "codes.parquet").exists():
        pytest.skip("the workflow run left no codes")
    settings = load(workflow_run / "config" / "config.yaml").model_dump(mode="json")
    settings["code"].update(training="coded.csv", tune_epochs=2)
    report = tmp_path / "training_report.json"
    summary = {"passages": 400, "documents": 40, "source": "coded.csv", "mean_kappa": 0.6}
    summary |= {"krippendorff_alpha": 0.6, "codes": 5, "folds": 5}
    report.write_text(json.dumps({"summary": summary, "codes": [], "protocol": "5-fold cross-validation"}))
    processed, interim = workflow_run / "data" / "processed", workflow_run / "data" / "interim"
    html = tmp_path / "brief.html"
    run(
        str(interim / "records.parquet"),
        str(interim / "flow.json"),
        str(processed / "codes.parquet"),
        str(processed / "evidence.parquet"),
        str(processed / "trends"),
        str(processed / "topics.parquet"),
        str(processed / "topic_summary.json"),
        str(workflow_run / "reports" / "figures"),
        str(workflow_run / "config" / "codebook.yaml"),
        str(html),
        settings,
        training_report=str(report),
    )
    text = html.read_text(encoding="utf-8")
    assert "400 human-coded passages (coded.csv), the sentences embedded by an encoder fine-tuned" in text
    assert "encoder fine-tuned on them for 2 epochs" in text
