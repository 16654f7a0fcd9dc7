"""Fine-tuning the sentence encoder on human codes (code.tune_epochs)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import litthemes.code.tune as tune
from litthemes.agree import read_units
from litthemes.cli import main
from litthemes.code.train import TrainingSet, load_training
from litthemes.codebook import load_codebook
from litthemes.config import EmbedSettings
from litthemes.embed import embed_texts
from litthemes.tables import CODES, SEGMENT_CODES, read_table
from workflow_helpers import (
    BUILD_ABSTRACT,
    abstracts_as_records,
    coded_abstracts_csv,
    segment_and_embed,
    train_command,
    trained_code_command,
)

ROOT = Path(__file__).resolve().parents[2]
QA_CODEBOOK = ROOT / "benchmarks" / "qabstracts" / "codebook.yaml"


def test_a_tuned_encoder_is_written_once_reused_and_reproducible(
    tmp_path: Path, embed_cache: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = load_codebook(QA_CODEBOOK)
    training = load_training(coded_abstracts_csv(tmp_path / "coded.csv", 8), book)
    embed = EmbedSettings(cache_dir=embed_cache)
    assert tune.tuned_settings(training, embed, 0, tmp_path) is embed
    assert tune.tuned_settings(None, embed, 2, tmp_path) is embed

    first = tune.tuned_settings(training, embed, 1, tmp_path / "a")
    folder = Path(first.model)
    assert folder.parent == tmp_path / "a" / "encoders" and (folder / "model.safetensors").exists()
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # no half-written folder left beside it

    # Found in the cache: not tuned again.
    def no_tuning(*args: object) -> None:
        raise AssertionError("tuned again")

    with monkeypatch.context() as patch:
        patch.setattr(tune, "tune_encoder", no_tuning)
        assert tune.tuned_settings(training, embed, 1, tmp_path / "a").model == first.model

    # Seeded: the same passages tune the same weights.
    again = Path(tune.tuned_settings(training, embed, 1, tmp_path / "b").model)
    assert (again / "model.safetensors").read_bytes() == (folder / "model.safetensors").read_bytes()

    # Other passages (a fold of a cross-validation) are another encoder, whatever the set is called.
    fewer = training.units.iloc[:-3].reset_index(drop=True)
    assert tune.tune_key(TrainingSet(fewer, training.source, training.digest), embed, 1) != tune.tune_key(
        training, embed, 1
    )
    assert tune.tune_key(training, embed, 2) != tune.tune_key(training, embed, 1)

    texts = [text for _, text in BUILD_ABSTRACT]
    assert not np.allclose(embed_texts(texts, embed), embed_texts(texts, first), atol=1e-3)


def test_code_stage_reads_segments_with_the_tuned_encoder(tmp_path: Path, embed_cache: str) -> None:
    """`litthemes code --train` with tune_epochs: the encoder is tuned into the code cache
    and codes new abstracts written like the training ones by their roles."""
    coded = coded_abstracts_csv(tmp_path / "coded.csv", 8)
    new_docs = [f"new{i}" for i in range(3)]
    abstracts = {d: " ".join(text.format(i=100 + i) for _, text in BUILD_ABSTRACT) for i, d in enumerate(new_docs)}
    segment_and_embed(abstracts_as_records(tmp_path / "records.parquet", abstracts), embed_cache)
    cache = tmp_path / "codes-cache"
    settings = json.dumps({"cache_dir": str(cache), "tune_epochs": 2})
    args = trained_code_command(tmp_path, QA_CODEBOOK, coded, settings, embed_cache)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert len(list((cache / "encoders").iterdir())) == 1
    seg = read_table(tmp_path / "segment_codes.parquet", SEGMENT_CODES)
    present = seg[seg["present"]]
    for position, (code, _) in enumerate(BUILD_ABSTRACT):
        coded_here = present[present["segment_index"] == position]
        assert set(coded_here["record_id"]) == set(new_docs), (code, coded_here)
        assert (coded_here["code"] == code).all(), coded_here
    codes = read_table(tmp_path / "codes.parquet", CODES)
    assert set(codes["record_id"]) == set(new_docs)

    # A rerun finds every record's codes in the cache: no encoder is asked for, so a pruned
    # encoder is not tuned again, and the tables are the same.
    shutil.rmtree(cache / "encoders")
    before = (tmp_path / "segment_codes.parquet").read_bytes()
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert not (cache / "encoders").exists() or not any((cache / "encoders").iterdir())
    assert (tmp_path / "segment_codes.parquet").read_bytes() == before


@pytest.mark.slow
@pytest.mark.corpora
def test_cross_validation_tunes_once_per_fold_on_qabstracts(corpora: Path, tmp_path: Path, embed_cache: str) -> None:
    """`litthemes train` with tune_epochs: every fold's coder reads with an encoder tuned on
    that fold's training passages only (four folds, four encoders), and agreement stays
    where frozen embeddings put it for the frequent sentence roles."""
    human = read_units(corpora / "labelled" / "qabstracts" / "abstracts" / "abstracts.A")
    coded = human[(human["code"] != "") & (human["code"] != "X")]
    documents = sorted(coded["document"].unique())[:40]
    train_csv = tmp_path / "coded.csv"
    coded[coded["document"].isin(documents)].to_csv(train_csv, index=False)
    cache = tmp_path / "codes-cache"
    settings = {"cache_dir": str(cache), "lexical_weight": 0.3, "training_folds": 4, "tune_epochs": 1}
    report = tmp_path / "report.json"
    result = CliRunner().invoke(main, train_command(train_csv, QA_CODEBOOK, report, settings, embed_cache))
    assert result.exit_code == 0, result.output
    cv = json.loads(report.read_text())
    kappa = {row["code"]: row["kappa"] for row in cv["codes"]}
    print(cv["summary"], kappa)
    assert "fine-tuned on those passages for 1 epoch" in cv["protocol"]
    assert len(list((cache / "encoders").iterdir())) == 4
    assert kappa["background"] > 0.5 and kappa["result"] > 0.4 and kappa["h_background"] > 0.8


def test_tune_refuses_what_it_cannot_tune_on_with_one_line(tmp_path: Path) -> None:
    uncoded = tmp_path / "uncoded.csv"
    uncoded.write_text("unit,text,code\nu1,A sentence nobody coded.,\nu2,Another one.,\n")
    runner = CliRunner()
    for settings, expected in (
        ({"tune_epochs": 1, "cache_dir": str(tmp_path)}, "no passage of"),
        ({"tune_epochs": 0}, "code.tune_epochs is 0"),
    ):
        result = runner.invoke(
            main, ["tune", str(uncoded), "--codebook", str(QA_CODEBOOK), "--settings", json.dumps(settings)]
        )
        assert result.exit_code == 2, result.output
        # One error line (after the log's lines), no traceback.
        errors = [line for line in result.output.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and expected in errors[0] and "Traceback" not in result.output, result.output
