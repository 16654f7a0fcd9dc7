"""External validation: how the coder agrees with human coders on text nobody on this project wrote.

Three checks, written to benchmarks/validity.json:

1. qabstracts (../shared/corpora/labelled/qabstracts): 524 software-engineering
   abstracts whose sentences two people coded independently with the study's rules.
   The codebook is benchmarks/qabstracts/codebook.yaml, written from the study's
   codebook.md. Units are the sentences both coders coded; the coder learns from
   coder A's codes (``litthemes code --train``). Protocol: a fixed test split (the
   abstracts whose name hashes to 0 mod 5, about a fifth) is never used for anything
   but the final score; on the other abstracts, 5-fold cross-validation grouped by
   abstract is what development looked at. Final: fit on all development abstracts,
   code the test abstracts, compare with coder A and coder B, next to A against B.
2. comp-data-sci (../shared/corpora/labelled/comp-data-sci): the content area of
   each kept publication of a review of undergraduate data-science education, coded
   by two reviewers each, then resolved. Units are records (title and abstract); the
   coder learns from the resolved codes with 5-fold cross-validation; the human
   figure is the two independent reviewers of each record against each other.
3. The study's own themes on real passages from the micro-credential literature
   (tests/code/literature_passages.yaml): the shipped codebook, no training; the
   development split was used to improve the coder, the holdout split never. And the
   same coder trained (``code.training``) on the development passages' labels, as a
   study that codes some of its own passages would: scored on validation and holdout,
   and cross-validated on development (5 folds grouped by source).
4. Rounds of human coding (``suggest``), on qabstracts' development abstracts only:
   from 20 coded abstracts, four rounds of 100 more sentences, chosen as
   ``litthemes agree --suggest`` chooses them (the most uncertain passages), at random,
   or as the sentences of whole abstracts taken at random; after each round the coder
   is trained again and scored against coder A on 80 development abstracts kept apart.
   Three different starting sets. Does coding what the coder suggests help more?

Kappa is Cohen's kappa per code over units; alpha Krippendorff's (nominal). Means are
over the codes that occur in the compared units; "core" codes are those with at least
50 human-coded units in the whole study, where a kappa is worth reading.

Run: python benchmarks/validity.py [--corpora ../shared/corpora] [--only qabstracts]
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from litthemes.agree import agreement, read_units  # noqa: E402
from litthemes.agree.suggest import uncertain_passages  # noqa: E402
from litthemes.code.evaluate import measure_agreement, passages_as_training, score_passages  # noqa: E402
from litthemes.code.score import code_segments  # noqa: E402
from litthemes.code.train import (  # noqa: E402
    LEXICAL_WEIGHTS,
    TrainedClassifier,
    TrainingSet,
    best_lexical_weight,
    cross_validate,
    machine_coding,
    units_as_segments,
    units_digest,
)
from litthemes.codebook import Agreement, Codebook, load_codebook  # noqa: E402
from litthemes.config import CodeSettings, EmbedSettings  # noqa: E402
from litthemes.embed import embed_texts  # noqa: E402

CORE_SUPPORT = 50
# With 3,000 human-coded sentences to learn from, the model leads and the cues written
# from the rules support it (a term alone no longer codes a sentence).
# The codebook describes an abstract's archetype (background, objective, method, result,
# conclusion, in order) and codes each sentence in its context: the coder reads each
# abstract as a sequence (weight chosen in development cross-validation, docs/validity.md).
QABSTRACTS_SETTINGS = {"lexical_weight": 0.3, "training_sequence": 0.4}
# What the encoder tuned on coder A's development codes adds (code.tune_epochs; 2 epochs,
# measured against the frozen encoder in development cross-validation, docs/validity.md).
QABSTRACTS_TUNED = {**QABSTRACTS_SETTINGS, "tune_epochs": 2}


def _units(long: pd.DataFrame, book: Codebook, keep: set[str]) -> pd.DataFrame:
    """Long human codes (ids or labels) -> one row per unit with its list of codebook ids."""
    by_label = {c.label: c.id for c in book.codes}
    ids = {c.id for c in book.codes}
    long = long[long["unit"].isin(keep)].assign(code=lambda d: d["code"].map(lambda c: by_label.get(c, c)))
    grouped = long.groupby("unit", sort=False)
    units = pd.DataFrame(
        {
            "unit": list(grouped.groups),
            "document": grouped["document"].first().to_numpy(),
            "position": grouped["position"].first().to_numpy(),
            "text": grouped["text"].first().to_numpy(),
            "codes": grouped["code"].agg(lambda cs: sorted({c for c in cs if c in ids})).to_numpy(),
        }
    )
    return units.sort_values(["document", "position"], kind="stable").reset_index(drop=True)


def _pairs(units: pd.DataFrame) -> pd.DataFrame:
    pairs = units.explode("codes").rename(columns={"codes": "code"})
    return pairs.fillna({"code": ""})[["unit", "code"]]


def _rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}
        for row in table.to_dict(orient="records")
    ]


def _compare(
    machine: pd.DataFrame, humans: dict[str, pd.DataFrame], codes: list[str], support: dict[str, int]
) -> dict[str, Any]:
    """Per-code kappa/alpha of the machine against each human, and of the humans against each other."""
    names = list(humans)
    tables = {f"machine_vs_{name}": agreement(human, machine, codes)[0] for name, human in humans.items()}
    if len(names) == 2:
        tables[f"{names[0]}_vs_{names[1]}"] = agreement(humans[names[0]], humans[names[1]], codes)[0]
    per_code = []
    for code in codes:
        row: dict[str, Any] = {"code": code, "support_study": support.get(code, 0)}
        for name, table in tables.items():
            hit = table.set_index("code").loc[code]
            row.update(
                {
                    f"{name}_kappa": float(hit["kappa"]),
                    f"{name}_alpha": float(hit["alpha"]),
                    f"{name}_f1": float(hit["f1"]),
                }
            )
            if name.startswith("machine_vs_"):
                row[f"{name}_positives"] = int(hit["a"])
        per_code.append(row)
    frame = pd.DataFrame(per_code)
    summary: dict[str, Any] = {}
    for label, subset in (("all", frame), ("core", frame[frame["support_study"] >= CORE_SUPPORT])):
        means = {name: float(np.nanmean(subset[f"{name}_kappa"])) for name in tables}
        entry: dict[str, Any] = {"codes": len(subset), "mean_kappa": {k: round(v, 4) for k, v in means.items()}}
        if len(names) == 2:
            human = means[f"{names[0]}_vs_{names[1]}"]
            entry["ratio_machine_to_human"] = {
                f"machine_vs_{n}": round(means[f"machine_vs_{n}"] / human, 4) for n in names
            }
        summary[label] = entry
    return {"summary": summary, "codes": _rows(frame)}


def _kappas(a: np.ndarray, b: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Cohen's kappa per column of two boolean unit x code matrices, each unit counted
    ``weights`` times (a bootstrap resample); NaN where neither coding uses the code."""
    n = weights.sum()
    wa, wb = weights @ a, weights @ b
    observed = (weights @ (a == b)) / n
    expected = (wa * wb + (n - wa) * (n - wb)) / n**2
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = (observed - expected) / (1 - expected)
    kappa = np.where(expected == 1, 1.0, kappa)  # both codings all one way: perfect, as in agree
    return np.where((wa > 0) | (wb > 0), kappa, np.nan)


def _ratio_intervals(
    test: pd.DataFrame, humans: dict[str, pd.DataFrame], machine: pd.DataFrame, codes: list[str], core: list[str]
) -> dict[str, list[float]]:
    """95% intervals of the machine-to-human ratio of mean kappa (machine against A, A against
    B), resampling the test abstracts (a percentile bootstrap, 2,000 resamples, fixed seed)."""
    units = sorted(test["unit"])
    document = test.set_index("unit").loc[units, "document"].to_numpy()
    documents, doc_index = np.unique(document, return_inverse=True)

    def matrix(pairs: pd.DataFrame) -> np.ndarray:
        pairs = pairs[pairs["unit"].isin(units) & pairs["code"].isin(codes)]
        out = np.zeros((len(units), len(codes)), dtype=bool)
        out[np.searchsorted(units, pairs["unit"]), [codes.index(c) for c in pairs["code"]]] = True
        return out

    a, b, m = matrix(humans["A"]), matrix(humans["B"]), matrix(machine)
    core_columns = np.array([c in core for c in codes])
    rng = np.random.default_rng(7)
    ratios: dict[str, list[float]] = {"core": [], "all": []}
    for _ in range(2000):
        counts = np.bincount(rng.integers(0, len(documents), len(documents)), minlength=len(documents))
        weights = counts[doc_index].astype(np.float64)
        machine_kappa, human_kappa = _kappas(a, m, weights), _kappas(a, b, weights)
        for label, columns in (("core", core_columns), ("all", np.ones(len(codes), bool))):
            ratios[label].append(np.nanmean(machine_kappa[columns]) / np.nanmean(human_kappa[columns]))
    return {
        label: [round(float(np.percentile(values, 2.5)), 4), round(float(np.percentile(values, 97.5)), 4)]
        for label, values in ratios.items()
    }


def _qabstracts_units(corpora: Path, book: Codebook) -> tuple[pd.DataFrame, pd.DataFrame, set[str]]:
    """Coder A's and coder B's units (the sentences both coded) and the test abstracts."""
    folder = corpora / "labelled" / "qabstracts" / "abstracts"
    coder_a, coder_b = read_units(folder / "abstracts.A"), read_units(folder / "abstracts.B")
    # Abstracts a coder did not code carry empty annotations: only units both coded count.
    both = set(coder_a.loc[coder_a["code"] != "", "unit"]) & set(coder_b.loc[coder_b["code"] != "", "unit"])
    units_a, units_b = _units(coder_a, book, both), _units(coder_b, book, both)
    test_docs = {d for d in units_a["document"].unique() if _hash(d) % 5 == 0}
    return units_a, units_b, test_docs


def _hash(text: str) -> int:
    return int(hashlib.sha1(text.encode()).hexdigest(), 16)


def qabstracts(corpora: Path, embed: EmbedSettings) -> dict[str, Any]:
    """The coder on an encoder tuned on the development codes (the figures reported), and
    on the frozen encoder beside it (``frozen_encoder``)."""
    # Both coders' files are read once for the two runs.
    book = load_codebook(ROOT / "benchmarks" / "qabstracts" / "codebook.yaml")
    units = _qabstracts_units(corpora, book)
    tuned = _qabstracts(book, units, embed, QABSTRACTS_TUNED)
    frozen = _qabstracts(book, units, embed, QABSTRACTS_SETTINGS)
    tuned["frozen_encoder"] = {key: frozen[key] for key in ("summary", "development_cv", "protocol")}
    return tuned


def _qabstracts(
    book: Codebook,
    units: tuple[pd.DataFrame, pd.DataFrame, set[str]],
    embed: EmbedSettings,
    coder_settings: dict[str, Any],
) -> dict[str, Any]:
    units_a, units_b, test_docs = units
    dev = units_a[~units_a["document"].isin(test_docs)].reset_index(drop=True)
    test = units_a[units_a["document"].isin(test_docs)].reset_index(drop=True)
    # No code cache: tuned encoders go to the system's temporary folder, keyed by their passages.
    settings = CodeSettings(cache_dir="", **coder_settings)
    support = pd.Series([c for cs in units_a["codes"] for c in cs]).value_counts().to_dict()
    codes = sorted(support)
    started = time.perf_counter()
    training = TrainingSet(dev, "qabstracts A (development)", units_digest(dev))
    cv_table, cv_summary = cross_validate(book, training, settings, embed, 5, codes=codes)
    machine = machine_coding(test, book, training, settings, embed)
    keep_units = set(test["unit"])
    humans = {"A": _pairs(test), "B": _pairs(units_b[units_b["unit"].isin(keep_units)])}
    test_codes = sorted(
        {c for cs in test["codes"] for c in cs}
        | {c for cs in units_b.loc[units_b["unit"].isin(keep_units), "codes"] for c in cs}
    )
    result = _compare(machine, humans, test_codes, support)
    result["summary"]["ratio_machine_vs_A_interval_95"] = _ratio_intervals(
        test, humans, machine, test_codes, [c for c in test_codes if support.get(c, 0) >= CORE_SUPPORT]
    )
    result["development_cv"] = {
        "mean_kappa_all": round(float(cv_table["kappa"].mean()), 4),
        "mean_kappa_core": round(
            float(cv_table[cv_table["code"].map(lambda c: support.get(c, 0) >= CORE_SUPPORT)]["kappa"].mean()), 4
        ),
        "units": int(cv_summary["units"]),
        "documents": int(dev["document"].nunique()),
    }
    result["protocol"] = {
        "units": "sentences both coders coded (empty annotations mark abstracts a coder did not code)",
        "training": "coder A's codes on the development abstracts; the codebook's cues and prototypes",
        "test_split": "abstracts whose name's SHA-1 is 0 mod 5, never used in development",
        "development": "5-fold cross-validation grouped by abstract on the other abstracts",
        "settings": {**coder_settings, "other": "litthemes defaults"},
        "test_units": len(test),
        "test_documents": len(test_docs),
        "development_units": len(dev),
        "seconds": round(time.perf_counter() - started, 1),
    }
    return result


def _lexical_weight_nested(
    book: Codebook, units: pd.DataFrame, settings: CodeSettings, embed: EmbedSettings, codes: list[str]
) -> dict[str, Any]:
    """The coder with ``code.lexical_weight`` chosen as ``litthemes train
    --compare-lexical-weights`` advises, scored honestly: in each of 5 outer folds the
    weight is chosen by a 4-fold cross-validation on the training folds alone."""
    from sklearn.model_selection import GroupKFold

    parts, chosen = [], []
    for train_rows, test_rows in GroupKFold(n_splits=5).split(units, groups=units["document"]):
        inner = units.iloc[train_rows].reset_index(drop=True)
        training = TrainingSet(inner, "comp-data-sci resolved", units_digest(inner))
        _, summary = cross_validate(book, training, settings, embed, 4, codes=codes, lexical_weights=LEXICAL_WEIGHTS)
        weight = best_lexical_weight(summary["by_lexical_weight"], settings.lexical_weight)
        chosen.append(weight)
        parts.append(
            machine_coding(
                units.iloc[test_rows].reset_index(drop=True),
                book,
                training,
                settings.model_copy(update={"lexical_weight": weight}),
                embed,
            )
        )
    table, summary = agreement(_pairs(units), pd.concat(parts, ignore_index=True), codes)
    return {
        "mean_kappa_machine_vs_resolved": round(float(np.nanmean(table["kappa"])), 4),
        "krippendorff_alpha_machine": round(float(summary["krippendorff_alpha"]), 4),
        "weights_chosen": chosen,
        "protocol": "5-fold cross-validation grouped by record; in each fold code.lexical_weight is the best of "
        f"{list(LEXICAL_WEIGHTS)} in a 4-fold cross-validation on that fold's training records alone",
    }


CONTENT_AREAS = {"educational technology": "education technology"}


def _content_codes(value: Any) -> list[str]:
    if not isinstance(value, str) or not value.strip() or value.strip() == "???":
        return []
    return [CONTENT_AREAS.get(part.strip().lower(), part.strip().lower()) for part in value.split(" and ")]


def comp_data_sci(corpora: Path, embed: EmbedSettings) -> dict[str, Any]:
    base = corpora / "labelled" / "comp-data-sci"
    book = load_codebook(ROOT / "benchmarks" / "comp-data-sci" / "codebook.yaml")
    by_label = {c.label: c.id for c in book.codes}
    resolved = pd.read_csv(base / "all_reviews.csv", encoding="latin-1")
    resolved = resolved[resolved["content_area"].notna()]
    units = pd.DataFrame(
        {
            "unit": resolved["our_id"].astype(str),
            "document": resolved["our_id"].astype(str),
            "position": 0,
            "text": (resolved["document_title"].fillna("") + ". " + resolved["abstract"].fillna("")).str.strip(),
            "codes": resolved["content_area"].map(
                lambda v: sorted({by_label[c] for c in _content_codes(v) if c in by_label})
            ),
        }
    ).reset_index(drop=True)
    units = units[units["codes"].map(len) > 0].reset_index(drop=True)
    reviews = []
    for path in sorted(glob.glob(str(base / "05-in-depth-analysis" / "01-initial-independent-reviews" / "*.csv"))):
        frame = pd.read_csv(path, encoding="latin-1")
        frame["reviewer"] = Path(path).name.split("-")[0]
        reviews.append(frame)
    initial = pd.concat(reviews, ignore_index=True)
    initial = initial[initial["our_id"].isin(set(units["unit"]))]
    initial["codes"] = initial["content_area"].map(
        lambda v: sorted({by_label[c] for c in _content_codes(v) if c in by_label})
    )
    initial = initial[initial["codes"].map(len) > 0].sort_values(["our_id", "reviewer"])
    first = initial.drop_duplicates("our_id", keep="first")
    second = initial[~initial.index.isin(first.index)].drop_duplicates("our_id")
    shared = sorted(set(first["our_id"]) & set(second["our_id"]))

    def as_pairs(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame[frame["our_id"].isin(shared)]
        return _pairs(pd.DataFrame({"unit": frame["our_id"], "codes": frame["codes"]}))

    settings = CodeSettings(cache_dir="")
    support = pd.Series([c for cs in units["codes"] for c in cs]).value_counts().to_dict()
    codes = sorted(support)
    started = time.perf_counter()
    cv_table, cv_summary = cross_validate(
        book, TrainingSet(units, "comp-data-sci resolved", "cds"), settings, embed, 5, codes=codes
    )
    human_table, _ = agreement(as_pairs(first), as_pairs(second), codes)
    merged = cv_table.merge(human_table[["code", "kappa", "alpha"]], on="code", suffixes=("_machine", "_human"))
    nested = _lexical_weight_nested(book, units, settings, embed, codes)
    return {
        "summary": {
            "records": len(units),
            "records_with_two_reviews": len(shared),
            "mean_kappa_machine_vs_resolved": round(float(np.nanmean(merged["kappa_machine"])), 4),
            "mean_kappa_reviewer_vs_reviewer": round(float(np.nanmean(merged["kappa_human"])), 4),
            "krippendorff_alpha_machine": round(float(cv_summary["krippendorff_alpha"]), 4),
        },
        "lexical_weight_chosen": nested,
        "codes": _rows(
            merged[
                [
                    "code",
                    "a",
                    "b",
                    "kappa_machine",
                    "alpha_machine",
                    "precision",
                    "recall",
                    "f1",
                    "kappa_human",
                    "alpha_human",
                ]
            ]
        ),
        "protocol": {
            "units": "kept records with a resolved content area; text = title and abstract",
            "machine": "5-fold cross-validation grouped by record, trained on the resolved codes",
            "human": "the two initial independent reviews of each record (first and second reviewer by name)",
            "seconds": round(time.perf_counter() - started, 1),
        },
    }


def _pooled(scores: list[dict[str, Any]]) -> dict[str, Any]:
    """Fold results pooled over their passages (counts back from the rounded rates)."""
    n = sum(s["passages"] for s in scores)
    top1 = sum(s["top1_by_rank"] * s["passages"] for s in scores) / n
    top3 = sum(s["top3_by_rank"] * s["passages"] for s in scores) / n
    return {"passages": n, "top1_by_rank": round(top1, 4), "top3_by_rank": round(top3, 4)}


def literature(embed: EmbedSettings) -> dict[str, Any]:
    import yaml

    passages = yaml.safe_load((ROOT / "tests" / "code" / "literature_passages.yaml").read_text())
    book = load_codebook(ROOT / "config" / "codebook.yaml")
    settings = CodeSettings(cache_dir="")
    out: dict[str, Any] = {}
    split = {name: [p for p in passages if p["split"] == name] for name in ("dev", "validation", "holdout")}
    for name, items in split.items():
        out[name] = score_passages(items, book, embed, settings)
    # The held-out figures as the codebook states them (its `agreement:` block, which the brief quotes).
    against = (
        f"{len(split['holdout'])} held-out passages quoted from the micro-credential literature "
        "(tests/code/literature_passages.yaml), each labelled by a person with a main theme and the others "
        "present, from the definitions and before any coder output"
    )
    _, agreement = measure_agreement(split["holdout"], book, embed, settings, against)
    # What a study gains by coding passages of its own literature and training on them
    # (code.training): the coder trained on the development passages' labels, scored on
    # passages it never saw; on development itself, 5-fold cross-validation grouped by source.
    dev = split["dev"]
    folds = [[p for p in dev if _hash(p["source"]) % 5 == k] for k in range(5)]
    fold_scores = []
    for fold in folds:
        rest = [p for p in dev if p not in fold]
        classifier = TrainedClassifier(
            book,
            passages_as_training(rest, "literature passages (development)"),
            embed,
            settings.semantic_c,
            settings.semantic_min_similarity,
        )
        fold_scores.append(score_passages(fold, book, embed, settings, classifier))
    classifier = TrainedClassifier(
        book,
        passages_as_training(dev, "literature passages (development)"),
        embed,
        settings.semantic_c,
        settings.semantic_min_similarity,
    )
    out["trained_on_dev"] = {
        "dev_cross_validated": _pooled(fold_scores),
        "validation": score_passages(split["validation"], book, embed, settings, classifier),
        "holdout": score_passages(split["holdout"], book, embed, settings, classifier),
        "protocol": "code.training with the development passages as human codes (a unit per passage, its main "
        "and other themes as codes); the codebook's cues and examples as without training",
    }
    out["codebook"] = {"version": book.version, "agreement": agreement.model_dump(mode="json")}
    out["protocol"] = {
        "passages": "real passages (short quotations) from the micro-credential literature, labelled with a main "
        "theme and the others clearly present, from the codebook's definitions, before any coder output",
        "dev": "used to improve cues, examples and settings",
        "validation": "collected after that, used only to choose between variants of the method",
        "holdout": "only ever scored",
    }
    return out


def agreement_block(literature_result: dict[str, Any]) -> str:
    """The codebook's ``agreement`` entry for these figures (the held-out passages), as YAML."""
    return Agreement.model_validate(literature_result["codebook"]["agreement"]).as_yaml()


SUGGEST_ROUNDS, SUGGEST_BATCH, SUGGEST_START, SUGGEST_EVALUATION, SUGGEST_STARTS = 4, 100, 20, 80, 3


def _suggested(
    book: Codebook, training: pd.DataFrame, pool: pd.DataFrame, settings: CodeSettings, embed: EmbedSettings
) -> list[str]:
    """The units ``litthemes agree --suggest`` would put first, after training on ``training``."""
    segments = units_as_segments(pool).sort_values(["record_id", "segment_index"], kind="stable")
    segments = segments.reset_index(drop=True)
    segments["segment_index"] = segments.groupby("record_id").cumcount().astype(np.int64)
    classifier = TrainedClassifier(
        book, TrainingSet(training.reset_index(drop=True), "rounds", "rounds"), embed, settings.semantic_c
    )
    vectors = embed_texts(segments["text"].tolist(), embed)
    coded = code_segments(segments.drop(columns="unit"), vectors, book, settings, embed, classifier=classifier)
    chosen = uncertain_passages(segments, coded, SUGGEST_BATCH, settings.present_threshold, settings.min_share)
    unit_of = dict(
        zip(zip(segments["record_id"], segments["segment_index"], strict=True), segments["unit"], strict=True)
    )
    return [unit_of[(d, int(i))] for d, i in zip(chosen["document"], chosen["position"], strict=True)]


def suggestion_rounds(corpora: Path, embed: EmbedSettings) -> dict[str, Any]:
    """Learning curves of the coder under three ways of choosing what to code next (see module doc)."""
    book = load_codebook(ROOT / "benchmarks" / "qabstracts" / "codebook.yaml")
    units_a, _, test_docs = _qabstracts_units(corpora, book)
    dev = units_a[~units_a["document"].isin(test_docs)].reset_index(drop=True)
    support = pd.Series([c for cs in units_a["codes"] for c in cs]).value_counts().to_dict()
    core = sorted(c for c, n in support.items() if n >= CORE_SUPPORT)
    documents = sorted(dev["document"].unique(), key=lambda d: _hash("rounds" + d))
    evaluation = dev[dev["document"].isin(documents[:SUGGEST_EVALUATION])].reset_index(drop=True)
    pool_documents = documents[SUGGEST_EVALUATION:]
    settings = CodeSettings(cache_dir="", **QABSTRACTS_SETTINGS)
    started = time.perf_counter()

    def score(training: pd.DataFrame) -> float:
        machine = machine_coding(
            evaluation, book, TrainingSet(training.reset_index(drop=True), "rounds", "rounds"), settings, embed
        )
        table, _ = agreement(_pairs(evaluation), machine, sorted(support))
        return round(float(table[table["code"].isin(core)]["kappa"].mean()), 4)

    curves: dict[str, list[list[list[float]]]] = {
        "uncertain passages": [],
        "random passages": [],
        "random abstracts": [],
    }
    for start in range(SUGGEST_STARTS):
        first = set(pool_documents[start * SUGGEST_START : (start + 1) * SUGGEST_START])
        for strategy, curve in curves.items():
            training = dev[dev["document"].isin(first)]
            rng = np.random.default_rng(start)
            points = [[len(training), score(training)]]
            for _ in range(SUGGEST_ROUNDS):
                pool = dev[dev["document"].isin(pool_documents) & ~dev["unit"].isin(set(training["unit"]))]
                pool = pool.reset_index(drop=True)
                if strategy == "uncertain passages":
                    chosen = set(_suggested(book, training, pool, settings, embed))
                elif strategy == "random passages":
                    chosen = set(rng.choice(pool["unit"].to_numpy(), SUGGEST_BATCH, replace=False))
                else:
                    chosen, left = set(), [d for d in pool_documents if d in set(pool["document"])]
                    while len(chosen) < SUGGEST_BATCH and left:
                        chosen |= set(pool.loc[pool["document"] == left.pop(0), "unit"])
                training = pd.concat([training, pool[pool["unit"].isin(chosen)]], ignore_index=True)
                points.append([len(training), score(training)])
            curve.append(points)
    final = {name: round(float(np.mean([c[-1][1] for c in runs])), 4) for name, runs in curves.items()}
    return {
        "summary": {"mean_core_kappa_after_last_round": final},
        "curves": curves,
        "protocol": {
            "data": "qabstracts development abstracts only (never the test split), coder A's codes",
            "start": f"{SUGGEST_START} coded abstracts; {SUGGEST_STARTS} different starting sets",
            "rounds": f"{SUGGEST_ROUNDS} rounds of {SUGGEST_BATCH} sentences (whole abstracts: until at least "
            f"{SUGGEST_BATCH})",
            "evaluation": f"{SUGGEST_EVALUATION} development abstracts kept apart; mean kappa over the core codes",
            "points": "[training sentences, mean core kappa] after each round",
            "seconds": round(time.perf_counter() - started, 1),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default=str(ROOT.parent / "shared" / "corpora"))
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "validity.json"))
    parser.add_argument("--embed-cache", default=str(ROOT / "benchmarks" / "work" / "embeddings"))
    parser.add_argument("--only", choices=["qabstracts", "comp-data-sci", "literature", "suggest"], action="append")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    embed = EmbedSettings(cache_dir=args.embed_cache, progress=False)
    corpora = Path(args.corpora)
    checks = args.only or ["qabstracts", "comp-data-sci", "literature", "suggest"]
    out_path = Path(args.out)
    result: dict[str, Any] = json.loads(out_path.read_text()) if out_path.exists() and args.only else {}
    for check in checks:
        print(f"== {check}", flush=True)
        if check == "qabstracts":
            result[check] = qabstracts(corpora, embed)
        elif check == "comp-data-sci":
            result[check] = comp_data_sci(corpora, embed)
        elif check == "suggest":
            result[check] = suggestion_rounds(corpora, embed)
        else:
            result[check] = literature(embed)
        print(json.dumps(result[check].get("summary", result[check]), indent=2), flush=True)
        if check == "literature":
            print("the codebook's agreement block (config/codebook.yaml, `agreement:`):")
            print(agreement_block(result[check]))
    out_path.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(f"wrote {out_path}")


if __name__ == "__main__":
    main()
