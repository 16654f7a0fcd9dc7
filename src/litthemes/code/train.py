"""Learning from human codes: a classifier per code fitted on human-coded passages.

NVivo's "autocode from existing coding patterns", done openly. A study that has coded
some passages by hand (a CSV with unit, text and code columns, a REFI-QDA project
exported from NVivo, ATLAS.ti, MAXQDA or QualCoder, or a folder of ``{{code}}``-
annotated texts) names them in ``code.training`` (or ``litthemes code --train``).
For each semantic code a logistic regression (scikit-learn, class-balanced) is fitted
on the human-coded passages, with the codebook's prototypes as further examples and
its background texts as examples of no code, on these features of a passage:

- its sentence embedding;
- the embeddings of the passages before and after it in the same document, and its
  relative position there (where a code depends on where a sentence stands, as the
  parts of an abstract do);
- its words and word pairs (TF-IDF over the training passages), which carry the
  function words ("we propose", "results show") that embeddings blur.

The model replaces the prototype classifier as the semantic evidence; cues work as
before. A code with fewer than ``MIN_POSITIVES`` human-coded passages gets no model of
its own and keeps the prototype classifier's evidence (its definition and examples).
:func:`cross_validate` reports how the whole coder (cues and model) agrees
with the human codes on passages it was not fitted on (k-fold, grouped by document),
per code: Cohen's kappa, Krippendorff's alpha, precision, recall and F1.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from litthemes.agree.readers import CodingError, read_units
from litthemes.code.semantic import LinearModel, PrototypeClassifier
from litthemes.code.sequence import CodeSequence, document_rows
from litthemes.codebook import Codebook
from litthemes.config import CodeSettings, ConfigError, EmbedSettings
from litthemes.embed import embed_texts, row_dot

log = logging.getLogger(__name__)

# A code needs this many human-coded positive passages to get a model of its own.
MIN_POSITIVES = 3


@dataclass
class TrainingSet:
    """Human-coded passages: one row per unit, its codes as a list (empty: coded with nothing)."""

    units: pd.DataFrame  # unit, document, position, text, codes
    source: str
    digest: str

    @property
    def documents(self) -> np.ndarray:
        return self.units["document"].to_numpy()


def load_training(path: str | Path, codebook: Codebook) -> TrainingSet:
    """Read human codes and map them onto the codebook's ids (a code may be named by id or label)."""
    path = Path(path)
    try:
        long = read_units(path)
    except CodingError as exc:
        raise ConfigError(f"code.training: {exc}") from None
    long = long[long["text"].str.strip() != ""]
    if long.empty:
        raise ConfigError(
            f"code.training: {path} has no passages with text to learn from "
            "(a table needs a text column; a .qdpx its source texts)"
        )
    ids = {c.id for c in codebook.codes}
    long = long.assign(code=long["code"].map(lambda code: (codebook.code_id(code) or code) if code else code))
    unknown = sorted(set(long["code"]) - ids - {""})
    if unknown:
        raise ConfigError(f"code.training: {path} uses codes that are not in the codebook: {unknown[:10]}")
    grouped = long.groupby("unit", sort=False)
    units = (
        pd.DataFrame(
            {
                "unit": list(grouped.groups),
                "document": grouped["document"].first().to_numpy(),
                "position": grouped["position"].first().to_numpy(),
                "text": grouped["text"].first().to_numpy(),
                "codes": grouped["code"].agg(lambda cs: sorted({c for c in cs if c})).to_numpy(),
            }
        )
        .sort_values(["document", "position", "unit"], kind="stable")
        .reset_index(drop=True)
    )
    log.info("training: %d human-coded passages in %d documents from %s", len(units), units["document"].nunique(), path)
    return TrainingSet(units, str(path), units_digest(units))


def units_digest(units: pd.DataFrame) -> str:
    """A fingerprint of human-coded passages (units, documents, positions, texts and codes)."""
    return hashlib.sha256(
        pd.util.hash_pandas_object(units.assign(codes=units["codes"].map("|".join)), index=False).to_numpy().tobytes()
    ).hexdigest()


def context_features(documents: np.ndarray, positions: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Neighbours' embeddings (half weight) and relative position, first and last flags."""
    n, dim = vectors.shape
    out = np.zeros((n, 2 * dim + 3), dtype=np.float32)
    for rows in document_rows(documents, positions):
        k = len(rows)
        for i, row in enumerate(rows):
            if i > 0:
                out[row, :dim] = 0.5 * vectors[rows[i - 1]]
            if i + 1 < k:
                out[row, dim : 2 * dim] = 0.5 * vectors[rows[i + 1]]
            out[row, 2 * dim] = i / (k - 1) if k > 1 else 0.5
            out[row, 2 * dim + 1] = float(i == 0)
            out[row, 2 * dim + 2] = float(i == k - 1)
    return out


class TrainedClassifier:
    """Per semantic code, a class-balanced logistic regression on human-coded passages
    (see module doc). Same interface as the prototype classifier. With a
    ``sequence_weight`` above 0 it also learns the order of the codes within the human-coded
    documents (:mod:`litthemes.code.sequence`) and :meth:`read` reads each document as a
    whole."""

    def __init__(
        self,
        codebook: Codebook,
        training: TrainingSet,
        embed_settings: EmbedSettings,
        c: float = 16.0,
        min_similarity: float = -1.0,
        sequence_weight: float = 0.0,
    ) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.codebook = codebook
        self.column = {code.id: j for j, code in enumerate(codebook.codes)}
        units = training.units
        prototypes = [(code.id, text) for code in codebook.codes if code.semantic for text in code.prototypes]
        texts = units["text"].tolist() + [t for _, t in prototypes] + codebook.none_examples
        vectors = embed_texts(texts, embed_settings)
        n_units = len(units)
        # Prototypes and background texts stand alone: no neighbours, a middle position.
        context = np.zeros((len(texts), 2 * vectors.shape[1] + 3), dtype=np.float32)
        context[n_units:, 2 * vectors.shape[1]] = 0.5
        context[:n_units] = context_features(
            units["document"].to_numpy(), units["position"].to_numpy(), vectors[:n_units]
        )
        self.words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, dtype=np.float64)
        words = self.words.fit_transform(texts)
        dense = np.hstack([vectors, context]).astype(np.float64)
        features = sp.hstack([sp.csr_matrix(dense), words]).tocsr()
        labels = [set(codes) for codes in units["codes"]] + [{code} for code, _ in prototypes]
        labels += [set() for _ in codebook.none_examples]
        self.n_dense = dense.shape[1]
        self.models: dict[str, LinearModel] = {}
        for code in codebook.codes:
            if not code.semantic:
                continue
            y = np.array([code.id in codes for codes in labels])
            if y[:n_units].sum() < MIN_POSITIVES or (~y).sum() < MIN_POSITIVES:
                continue
            self.models[code.id] = LinearModel.fit(
                features, ["yes" if v else "no" for v in y], c, multinomial=False, class_weight="balanced"
            )
        log.info("training: models for %d codes (%s)", len(self.models), ", ".join(sorted(self.models)))
        # A code too rare in the human codes to learn from keeps the evidence it has without
        # training (its definition and examples), so that its cues can still code it.
        self.untrained = [code.id for code in codebook.codes if code.semantic and code.id not in self.models]
        self.fallback = (
            PrototypeClassifier(codebook, embed_settings, c, min_similarity=min_similarity) if self.untrained else None
        )
        if self.untrained:
            log.info(
                "training: %d codes from the codebook's examples only (%s)",
                len(self.untrained),
                ", ".join(self.untrained),
            )
        self.sequence: CodeSequence | None = None
        self.uncoded: LinearModel | None = None
        self.states: list[str] = []  # the sequence's code states, in codebook order
        if sequence_weight > 0 and self.models:
            self._fit_sequence(units, features, labels, c, sequence_weight)

    def _fit_sequence(
        self, units: pd.DataFrame, features: sp.csr_matrix, labels: list[set[str]], c: float, weight: float
    ) -> None:
        """States: the trained codes, and "no trained code" where the human codes leave
        enough passages without one to learn what such a passage looks like."""
        self.states = [code_id for code_id in self.column if code_id in self.models]
        state_of = {code_id: k for k, code_id in enumerate(self.states)}
        n_units = len(units)
        uncoded = np.array([not (codes & self.models.keys()) for codes in labels])
        if uncoded[:n_units].sum() >= MIN_POSITIVES:
            self.uncoded = LinearModel.fit(
                features, ["yes" if v else "no" for v in uncoded], c, multinomial=False, class_weight="balanced"
            )
        n_states = len(self.states) + (self.uncoded is not None)
        documents = units["document"].astype(str).to_numpy()
        order = np.concatenate([np.zeros(0, np.int64), *document_rows(documents, units["position"].to_numpy())])
        states = []
        for i in order:
            carried = {state_of[code_id] for code_id in labels[i] if code_id in state_of}
            if not carried and self.uncoded is not None:  # a passage without any trained code
                carried = {n_states - 1}
            states.append(frozenset(carried))
        self.sequence = CodeSequence.fit(documents[order], states, n_states, weight)

    def reach(self, vectors: np.ndarray) -> np.ndarray:
        """1 for the codes learnt from the human codes (the study's own passages are what
        they were fitted on); the codebook's reach for the codes that fall back on it."""
        if self.fallback is None:
            return np.ones((len(vectors), len(self.codebook.codes)), dtype=np.float64)
        out = self.fallback.reach(vectors)
        out[:, [self.column[code_id] for code_id in self.models]] = 1.0
        return out

    def close(self, vectors: np.ndarray, similarity: float) -> np.ndarray:
        """True for the codes learnt from the human codes (they were fitted on the study's own
        passages); the codebook's test for the codes that fall back on it."""
        if self.fallback is None:
            return np.ones((len(vectors), len(self.codebook.codes)), dtype=bool)
        out = self.fallback.close(vectors, similarity)
        out[:, [self.column[code_id] for code_id in self.models]] = True
        return out

    def _features(self, segments: pd.DataFrame, vectors: np.ndarray) -> tuple[np.ndarray, sp.csr_matrix]:
        context = context_features(segments["record_id"].to_numpy(), segments["segment_index"].to_numpy(), vectors)
        return np.hstack([vectors, context]).astype(np.float64), self.words.transform(segments["text"].tolist())

    def _probability(self, model: LinearModel, dense: np.ndarray, words: sp.csr_matrix) -> np.ndarray:
        # Row by row in a fixed order, as the prototype classifier (see its module).
        coef = model.coef[0]
        logits = row_dot(dense, coef[None, : self.n_dense]).astype(np.float64)[:, 0]
        logits += np.asarray(words @ coef[self.n_dense :]).ravel() + model.intercept[0]
        # The model's classes are 'no' < 'yes': the logit is that of 'yes'.
        return 1.0 / (1.0 + np.exp(-logits))

    def _evaluate(self, segments: pd.DataFrame, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Every code's probability, and that of "no trained code" where the sequence has
        that state (one pass over the features)."""
        out = np.zeros((len(segments), len(self.codebook.codes)), dtype=np.float64)
        if not len(segments):
            return out, None
        if self.fallback is not None:
            columns = [self.column[code_id] for code_id in self.untrained]
            out[:, columns] = self.fallback.probabilities(segments, vectors)[:, columns]
        if not self.models:
            return out, None
        dense, words = self._features(segments, vectors)
        for code_id, model in self.models.items():
            out[:, self.column[code_id]] = self._probability(model, dense, words)
        if self.uncoded is not None:
            return out, self._probability(self.uncoded, dense, words)
        return out, None

    def probabilities(self, segments: pd.DataFrame, vectors: np.ndarray) -> np.ndarray:
        return self._evaluate(segments, vectors)[0]

    def read(
        self, segments: pd.DataFrame, vectors: np.ndarray
    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
        """The probabilities and, with a learnt sequence, the trained codes' columns and for
        each segment whether its record's most likely sequence of codes gives it that code."""
        probabilities, uncoded = self._evaluate(segments, vectors)
        if self.sequence is None:
            return probabilities, None
        columns = np.array([self.column[code_id] for code_id in self.states], dtype=np.int64)
        states = probabilities[:, columns]
        if uncoded is not None:
            states = np.hstack([states, uncoded[:, None]])
        chosen = np.zeros((len(segments), len(columns)), dtype=bool)
        records = segments["record_id"].astype(str).to_numpy()
        for rows in document_rows(records, segments["segment_index"].to_numpy()):
            path = self.sequence.path(states[rows])
            on_code = path < len(columns)
            chosen[rows[on_code], path[on_code]] = True
        return probabilities, (columns, chosen)


def units_as_segments(units: pd.DataFrame) -> pd.DataFrame:
    """Human-coded passages as a segment table (each passage one segment of its document)."""
    from litthemes.segment import lemmatize

    return pd.DataFrame(
        {
            "record_id": units["document"].astype(str).to_numpy(),
            "segment_index": units["position"].astype(np.int64).to_numpy(),
            "field": "abstract",
            "start_char": 0,
            "end_char": units["text"].str.len().to_numpy(),
            "text": units["text"].to_numpy(),
            "lemmas": lemmatize(units["text"].tolist()),
            "unit": units["unit"].to_numpy(),
        }
    )


def machine_coding(
    units: pd.DataFrame,
    codebook: Codebook,
    training: TrainingSet,
    settings: CodeSettings,
    embed_settings: EmbedSettings,
    nlp_model: str = "auto",
) -> pd.DataFrame:
    """The coder's codes for ``units`` (unit, code), with a model fitted on ``training``."""
    weight = settings.lexical_weight
    return machine_codings(units, codebook, training, settings, embed_settings, nlp_model, [weight])[weight]


def machine_codings(
    units: pd.DataFrame,
    codebook: Codebook,
    training: TrainingSet,
    settings: CodeSettings,
    embed_settings: EmbedSettings,
    nlp_model: str,
    lexical_weights: list[float],
) -> dict[float, pd.DataFrame]:
    """:func:`machine_coding` at each of ``lexical_weights`` (``code.lexical_weight``, the
    cues' share of a passage's score), from one fitted model: the weight only changes
    how its probabilities and the cues are combined."""
    from litthemes.code.lexical import LexicalCoder
    from litthemes.code.score import code_segments
    from litthemes.code.tune import tuned_settings
    from litthemes.segment import load_pipeline

    segments = units_as_segments(units)
    # Two passages may share a position in a document (a table without positions): order them.
    segments["segment_index"] = segments.groupby("record_id").cumcount().astype(np.int64)
    # With code.tune_epochs the encoder is tuned on ``training`` first and reads everything.
    embed_settings = tuned_settings(training, embed_settings, settings.tune_epochs, settings.cache_dir)
    classifier = TrainedClassifier(
        codebook,
        training,
        embed_settings,
        settings.semantic_c,
        settings.semantic_min_similarity,
        settings.training_sequence,
    )
    vectors = embed_texts(segments["text"].tolist(), embed_settings)
    # The cues' matches do not depend on the weight: matched once for all of them.
    matches = LexicalCoder(codebook, load_pipeline(nlp_model), settings.weak_cue_weight).match_all(
        segments["lemmas"].tolist()
    )
    unit_of = dict(
        zip(zip(segments["record_id"], segments["segment_index"], strict=True), segments["unit"], strict=True)
    )
    out = {}
    for weight in lexical_weights:
        coded = code_segments(
            segments.drop(columns="unit"),
            vectors,
            codebook,
            settings.model_copy(update={"lexical_weight": weight}),
            embed_settings,
            nlp_model,
            matches,
            classifier=classifier,
        )
        present = coded[coded["present"]]
        pairs = pd.DataFrame(
            {
                "unit": [
                    unit_of[(r, int(i))] for r, i in zip(present["record_id"], present["segment_index"], strict=True)
                ],
                "code": present["code"].to_numpy(),
            }
        )
        empty = sorted(set(units["unit"]) - set(pairs["unit"]))
        out[weight] = pd.concat([pairs, pd.DataFrame({"unit": empty, "code": ""})], ignore_index=True)
    return out


# The cues' share of a passage's score compared by ``litthemes train --compare-lexical-weights``.
LEXICAL_WEIGHTS = (0.0, 0.15, 0.3, 0.45, 0.6, 0.8)


def cross_validate(
    codebook: Codebook,
    training: TrainingSet,
    settings: CodeSettings,
    embed_settings: EmbedSettings,
    folds: int = 5,
    nlp_model: str = "auto",
    codes: list[str] | None = None,
    lexical_weights: tuple[float, ...] = (),
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Agreement of the coder with the human codes on held-out documents (k-fold, grouped).

    With ``lexical_weights`` the summary also gives, in ``by_lexical_weight``, the mean
    kappa and alpha the same folds reach at each of those weights (one model per fold).
    """
    from sklearn.model_selection import GroupKFold

    from litthemes.agree import agreement

    units = training.units
    n_docs = units["document"].nunique()
    if n_docs < folds:
        raise ConfigError(
            f"code.training: {training.source} has {n_docs} documents; "
            f"{folds}-fold cross-validation needs at least {folds}"
        )
    human = units.explode("codes").rename(columns={"codes": "code"}).fillna({"code": ""})[["unit", "code"]]
    weights = sorted({settings.lexical_weight, *lexical_weights})
    parts: dict[float, list[pd.DataFrame]] = {weight: [] for weight in weights}
    for train_rows, test_rows in GroupKFold(n_splits=folds).split(units, groups=units["document"]):
        fold_units = units.iloc[train_rows].reset_index(drop=True)
        fold = TrainingSet(fold_units, training.source, units_digest(fold_units))
        held_out = units.iloc[test_rows].reset_index(drop=True)
        for weight, coded in machine_codings(
            held_out, codebook, fold, settings, embed_settings, nlp_model, weights
        ).items():
            parts[weight].append(coded)
    wanted = codes or sorted({c for cs in units["codes"] for c in cs})
    scored = {weight: agreement(human, pd.concat(parts[weight], ignore_index=True), wanted) for weight in weights}
    table, summary = scored[settings.lexical_weight]
    summary.update({"folds": folds, "documents": int(n_docs), "passages": len(units), "source": training.source})
    if lexical_weights:
        summary["by_lexical_weight"] = [
            {
                "lexical_weight": weight,
                "mean_kappa": at_weight["mean_kappa"],
                "krippendorff_alpha": at_weight["krippendorff_alpha"],
            }
            for weight, (_, at_weight) in scored.items()
        ]
    return table, summary


def best_lexical_weight(by_weight: list[dict[str, Any]], configured: float) -> float:
    """The weight with the highest mean kappa; the configured one where it is as high
    (to the 3rd decimal), else the nearest to it among the best."""
    scored = [row for row in by_weight if not np.isnan(row["mean_kappa"])]
    if not scored:
        return configured
    best = max(round(row["mean_kappa"], 3) for row in scored)
    tied = [row["lexical_weight"] for row in scored if round(row["mean_kappa"], 3) == best]
    return float(min(tied, key=lambda weight: (abs(weight - configured), weight)))


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    return value


def training_report(
    training_path: str,
    codebook_path: str,
    settings: dict[str, Any] | None = None,
    embed_settings: dict[str, Any] | None = None,
    segment_settings: dict[str, Any] | None = None,
    folds: int | None = None,
    out: str | None = None,
    compare_lexical_weights: bool = False,
) -> dict[str, Any]:
    """Cross-validated agreement of the coder with the human codes in ``training_path``;
    written as JSON to ``out`` (what the brief's methods section shows). With
    ``compare_lexical_weights`` the same folds are also scored at each of
    ``LEXICAL_WEIGHTS`` (``summary.by_lexical_weight``, ``summary.best_lexical_weight``, beside
    the configured ``summary.lexical_weight``)."""
    from litthemes.codebook import load_codebook
    from litthemes.config import SegmentSettings
    from litthemes.tables import write_json

    book = load_codebook(codebook_path)
    code_settings = CodeSettings.model_validate(settings or {})
    embed = EmbedSettings.model_validate(embed_settings or {})
    nlp = SegmentSettings.model_validate(segment_settings or {})
    training = load_training(training_path, book)
    table, summary = cross_validate(
        book,
        training,
        code_settings,
        embed,
        folds or code_settings.training_folds,
        nlp.model,
        lexical_weights=LEXICAL_WEIGHTS if compare_lexical_weights else (),
    )
    if compare_lexical_weights:
        summary["lexical_weight"] = code_settings.lexical_weight
        summary["best_lexical_weight"] = best_lexical_weight(summary["by_lexical_weight"], code_settings.lexical_weight)
    table = table.sort_values(["a", "code"], ascending=[False, True]).reset_index(drop=True)
    report = {
        "summary": {key: _rounded(value) for key, value in summary.items()},
        "codes": [{key: _rounded(value) for key, value in row.items()} for row in table.to_dict(orient="records")],
        "codebook": book.stamp,
        "protocol": f"{summary['folds']}-fold cross-validation grouped by document: the coder (cues and a model "
        "fitted on the other folds' passages"
        + (
            f", on an encoder fine-tuned on those passages for {code_settings.tune_epochs} "
            + ("epoch" if code_settings.tune_epochs == 1 else "epochs")
            if code_settings.tune_epochs
            else ""
        )
        + (
            f", each document read as a sequence of codes, weight {code_settings.training_sequence:g}"
            if code_settings.training_sequence
            else ""
        )
        + ") against the human codes of the held-out passages",
    }
    if out:
        write_json(report, out)
    report["table_text"] = table[["code", "a", "b", "kappa", "alpha", "precision", "recall", "f1"]].to_string(
        index=False, float_format=lambda v: f"{v:.3f}"
    )
    return report
