"""Learning from human codes: training files, cross-validation, the next passages to code."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from litthemes.agree import read_units
from litthemes.agree.suggest import uncertain_passages
from litthemes.cli import main
from litthemes.code.train import LEXICAL_WEIGHTS, best_lexical_weight, load_training
from litthemes.codebook import load_codebook
from litthemes.config import ConfigError
from litthemes.tables import CODES, read_table
from workflow_helpers import (
    abstracts_as_records,
    coded_abstracts_csv,
    segment_and_embed,
    train_command,
    trained_code_command,
)

ROOT = Path(__file__).resolve().parents[2]
QA_CODEBOOK = ROOT / "benchmarks" / "qabstracts" / "codebook.yaml"


def test_training_codes_map_by_id_or_label_and_unknown_codes_are_named(tmp_path: Path) -> None:
    book = load_codebook(QA_CODEBOOK)
    good = tmp_path / "coded.csv"
    good.write_text(
        "unit,document,position,text,code\n"
        "u1,d1,0,Context:,h-background\n"
        "u2,d1,1,We propose a tool.,design; objective\n"
        "u3,d1,2,It works.,\n"
    )
    training = load_training(good, book)
    assert training.units["codes"].tolist() == [["h_background"], ["design", "objective"], []]
    bad = tmp_path / "bad.csv"
    bad.write_text("unit,text,code\nu1,Some text.,no-such-code\n")
    with pytest.raises(ConfigError, match=r"not in the codebook.*no-such-code"):
        load_training(bad, book)
    no_text = tmp_path / "no-text.csv"
    no_text.write_text("unit,code\nu1,design\n")
    with pytest.raises(ConfigError, match="no passages with text"):
        load_training(no_text, book)


def test_uncertain_passages_are_those_near_a_decision() -> None:
    segments = pd.DataFrame(
        {
            "record_id": ["a", "a", "b", "c"],
            "segment_index": [0, 1, 0, 0],
            "text": ["sure", "unsure", "borderline share", "done before"],
        }
    )
    rows = [
        ("a", 0, "x", 0.95, 0.9, True),
        ("a", 1, "x", 0.52, 0.9, True),
        ("b", 0, "y", 0.9, 0.21, True),
        ("c", 0, "x", 0.5, 0.5, True),
    ]
    codes = pd.DataFrame(rows, columns=["record_id", "segment_index", "code", "score", "share", "present"])
    codes["dimension"] = "theme"
    picked = uncertain_passages(segments, codes, 2, 0.5, 0.2, exclude_texts={"done before"})
    assert picked["text"].tolist() == ["borderline share", "unsure"]
    assert picked["unit"].tolist() == ["b#0", "a#1"] and (picked["code"] == "").all()
    assert (picked["uncertainty"] > 0.9).all()


def test_small_shares_of_faint_themes_are_not_uncertain() -> None:
    """A passage with a little evidence for every theme gives each a small share, near
    ``min_share``; far below the score threshold, none of them is close to being coded."""
    segments = pd.DataFrame(
        {"record_id": ["faint", "sequence"], "segment_index": [0, 0], "text": ["faint everywhere", "by sequence"]}
    )
    faint = [("faint", 0, f"t{k}", 0.05, 0.1, False) for k in range(10)]
    # Coded by the record's sequence of codes below the cue rule's threshold: the score's
    # distance to it (0.2) is how sure that is.
    chosen = [("sequence", 0, "x", 0.3, 0.15, True)]
    codes = pd.DataFrame(faint + chosen, columns=["record_id", "segment_index", "code", "score", "share", "present"])
    codes["dimension"] = "theme"
    picked = uncertain_passages(segments, codes, 2, 0.5, 0.2).set_index("text")
    assert picked.loc["faint everywhere", "uncertainty"] == pytest.approx(0.1)
    assert picked.loc["faint everywhere", "uncertain_codes"] == ""
    assert picked.loc["by sequence", "uncertainty"] == pytest.approx(0.6)
    assert picked.loc["by sequence", "uncertain_codes"] == "x"
    assert picked.index.tolist() == ["by sequence", "faint everywhere"]


def test_the_same_sentence_is_suggested_once_whatever_its_punctuation() -> None:
    """A second version of a paper repeats its sentences with other hyphens and spaces;
    a passage coded already may come back with other white space."""
    texts = ["Verified-certificate tracks.", "Verified certificate  tracks", "Coded  before.", "Other."]
    segments = pd.DataFrame({"record_id": ["a", "b", "c", "d"], "segment_index": [0, 0, 0, 0], "text": texts})
    rows = [(r, 0, "x", score, 0.9, True) for r, score in zip("abcd", [0.51, 0.52, 0.5, 0.6], strict=True)]
    codes = pd.DataFrame(rows, columns=["record_id", "segment_index", "code", "score", "share", "present"])
    codes["dimension"] = "theme"
    picked = uncertain_passages(segments, codes, 10, 0.5, 0.2, exclude_texts={"coded before"})
    assert picked["text"].tolist() == ["Verified-certificate tracks.", "Other."]


def test_codes_too_rare_to_learn_keep_their_codebook_evidence(tmp_path: Path, embed_cache: str) -> None:
    """A code with fewer human-coded passages than a model needs is scored from its
    definition and examples, as without training, instead of never being coded."""
    from litthemes.code.semantic import PrototypeClassifier
    from litthemes.code.train import MIN_POSITIVES, TrainedClassifier
    from litthemes.config import EmbedSettings
    from litthemes.embed import embed_texts

    book = load_codebook(QA_CODEBOOK)
    coded = coded_abstracts_csv(tmp_path / "coded.csv", MIN_POSITIVES + 1)
    embed = EmbedSettings(cache_dir=embed_cache)
    trained = TrainedClassifier(book, load_training(coded, book), embed)
    assert {"background", "objective", "result"} <= set(trained.models)
    assert "limitation" in trained.untrained
    limitation = next(c for c in book.codes if c.id == "limitation")
    segments = pd.DataFrame({"record_id": ["x"], "segment_index": [0], "text": [limitation.examples[0]]})
    vectors = embed_texts(segments["text"].tolist(), embed)
    column = [c.id for c in book.codes].index("limitation")
    got = trained.probabilities(segments, vectors)[:, column]
    expected = PrototypeClassifier(book, embed).probabilities(segments, vectors)[:, column]
    assert got[0] == expected[0] and got[0] > 0.2


@pytest.mark.slow
@pytest.mark.corpora
def test_training_loop_on_qabstracts(corpora: Path, tmp_path: Path, embed_cache: str) -> None:
    """Train on human-coded abstracts, see the cross-validated kappa, code new abstracts,
    get the next passages to code, code them (from the human file, standing in for a
    person) and train again."""
    human = read_units(corpora / "labelled" / "qabstracts" / "abstracts" / "abstracts.A")
    # "X" marks a sentence a coder had not decided on yet: not a code of the study.
    coded = human[(human["code"] != "") & (human["code"] != "X")]
    documents = sorted(coded["document"].unique())
    train_docs, new_docs = documents[:40], documents[40:55]
    training = coded[coded["document"].isin(train_docs)]
    train_csv = tmp_path / "coded.csv"
    training.to_csv(train_csv, index=False)
    settings = {"cache_dir": "", "lexical_weight": 0.3, "training_folds": 4, "training_sequence": 0.4}
    runner = CliRunner()
    report = tmp_path / "report.json"
    result = runner.invoke(main, train_command(train_csv, QA_CODEBOOK, report, settings, embed_cache))
    assert result.exit_code == 0, result.output
    cv = json.loads(report.read_text())
    kappa = {row["code"]: row["kappa"] for row in cv["codes"]}
    print(cv["summary"], kappa)
    assert cv["summary"]["folds"] == 4 and cv["summary"]["passages"] > 300
    assert "read as a sequence of codes, weight 0.4" in cv["protocol"]
    # Frequent sentence roles are learnt well beyond chance from 40 abstracts.
    assert kappa["background"] > 0.5 and kappa["result"] > 0.4 and kappa["h_background"] > 0.8

    # New abstracts as records, coded with the trained model.
    new = coded[coded["document"].isin(new_docs)].drop_duplicates("unit").sort_values(["document", "position"])
    abstracts = {d: " ".join(new.loc[new["document"] == d, "text"]) for d in new_docs}
    segment_and_embed(abstracts_as_records(tmp_path / "records.parquet", abstracts), embed_cache)
    result = runner.invoke(
        main, trained_code_command(tmp_path, QA_CODEBOOK, train_csv, json.dumps(settings), embed_cache)
    )
    assert result.exit_code == 0, result.output
    codes = read_table(tmp_path / "codes.parquet", CODES)
    assert set(codes.loc[codes["rank"] == 1, "theme"]) & {"background", "result", "method", "design"}

    # The next passages to code, then coded by 'a person' and added to the training file.
    out = tmp_path / "next"
    result = runner.invoke(
        main,
        [
            "agree",
            str(train_csv),
            "--suggest",
            "20",
            "--segments",
            str(tmp_path / "segments.parquet"),
            "--segment-codes",
            str(tmp_path / "segment_codes.parquet"),
            "--codebook",
            str(QA_CODEBOOK),
            "--out-dir",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    suggestions = pd.read_csv(out / "suggestions.csv", keep_default_na=False)
    assert 0 < len(suggestions) <= 20 and (suggestions["code"] == "").all()
    assert (out / "suggestions.qdpx").stat().st_size > 0
    answers = new.groupby("text")["code"].agg(lambda c: "; ".join(sorted(set(c))))
    suggestions["code"] = suggestions["text"].map(answers).fillna("")
    suggestions = suggestions[suggestions["code"] != ""]
    assert len(suggestions) >= 5
    grown = tmp_path / "coded-more.csv"
    pd.concat(
        [
            training[["unit", "document", "position", "text", "code"]],
            suggestions[["unit", "document", "position", "text", "code"]],
        ]
    ).to_csv(grown, index=False)
    again = tmp_path / "report-more.json"
    result = runner.invoke(
        main, [*train_command(grown, QA_CODEBOOK, again, settings, embed_cache), "--compare-lexical-weights"]
    )
    assert result.exit_code == 0, result.output
    assert "mean kappa" in result.output
    # The same folds at every lexical weight: the configured one is the figure reported.
    summary = json.loads(again.read_text())["summary"]
    by_weight = {row["lexical_weight"]: row["mean_kappa"] for row in summary["by_lexical_weight"]}
    assert sorted(by_weight) == list(LEXICAL_WEIGHTS)
    assert by_weight[0.3] == pytest.approx(summary["mean_kappa"], abs=1e-6)
    assert len({round(kappa, 4) for kappa in by_weight.values()}) > 1
    assert by_weight[summary["best_lexical_weight"]] == pytest.approx(max(by_weight.values()), abs=1e-3)
    assert "0.3  " in result.output and "(configured)" in result.output


def test_best_lexical_weight_prefers_the_configured_one_when_tied() -> None:
    rows = [
        {"lexical_weight": 0.0, "mean_kappa": 0.41},
        {"lexical_weight": 0.3, "mean_kappa": 0.5},
        {"lexical_weight": 0.45, "mean_kappa": 0.5001},
        {"lexical_weight": 0.6, "mean_kappa": 0.5},
        {"lexical_weight": 0.8, "mean_kappa": float("nan")},
    ]
    assert best_lexical_weight(rows, 0.6) == 0.6
    assert best_lexical_weight(rows, 0.0) == 0.3
    assert best_lexical_weight(rows[:1], 0.6) == 0.0
    assert best_lexical_weight(rows[4:], 0.6) == 0.6
