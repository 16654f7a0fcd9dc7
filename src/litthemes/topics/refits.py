"""Topic stability: refits with other seeds, and how well each topic survives them.

Refit ``run`` uses seed ``seed + run``; a BERTopic refit needs only the partition
(:func:`litthemes.topics.fit.cluster_documents`), an NMF refit the primary model's topic
count. Stability is the ARI and NMI between the fit's assignments and each refit's,
and each topic's mean best Jaccard overlap with the refits' topics.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from litthemes.config import TopicSettings
from litthemes.tables import DOC_TOPICS, TOPIC_RUN, TOPICS, read_table, write_json, write_table
from litthemes.topics.documents import document_vectors, documents
from litthemes.topics.fit import (
    MIN_DOCUMENTS,
    TopicModelResult,
    cluster_documents,
    fit_bertopic,
    fit_nmf,
)
from litthemes.topics.frozen import save_fitted_model, save_skipped_model

log = logging.getLogger(__name__)


def _jaccard_best(base: np.ndarray, other: np.ndarray) -> dict[int, float]:
    out: dict[int, float] = {}
    other_sets = {t: set(np.flatnonzero(other == t)) for t in set(other.tolist()) if t != -1}
    for topic in sorted(set(base.tolist()) - {-1}):
        members = set(np.flatnonzero(base == topic))
        out[topic] = max((len(members & s) / len(members | s) for s in other_sets.values()), default=0.0)
    return out


def stability(base: np.ndarray, refits: list[np.ndarray]) -> tuple[dict[str, float], dict[int, float]]:
    """ARI/NMI between a fit's topic assignments and each refit's (same documents, same
    order), and each topic's mean best Jaccard."""
    if not refits:
        return {"runs": 1, "ari_mean": float("nan"), "nmi_mean": float("nan")}, {}
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    aris = [adjusted_rand_score(base, refit) for refit in refits]
    nmis = [normalized_mutual_info_score(base, refit) for refit in refits]
    per_topic: dict[int, list[float]] = {}
    for refit in refits:
        for topic, value in _jaccard_best(base, refit).items():
            per_topic.setdefault(topic, []).append(value)
    summary = {
        "runs": len(refits) + 1,
        "ari_mean": float(np.mean(aris)),
        "ari_min": float(np.min(aris)),
        "nmi_mean": float(np.mean(nmis)),
        "nmi_min": float(np.min(nmis)),
    }
    return summary, {t: float(np.mean(v)) for t, v in per_topic.items()}


def refit_assignments(
    docs: list[str], doc_vectors: np.ndarray, params: TopicSettings, runs: list[int], nmf_topics: int | None = None
) -> dict[int, np.ndarray]:
    """Each refit's assignments (refit ``run`` uses seed ``seed + run``).

    NMF refits take the primary model's topic count: ``nmf_topics`` where the caller
    has it, else from one BERTopic fit shared by all of them.
    """
    if params.method == "nmf" and nmf_topics is None and runs:
        nmf_topics = nmf_topic_count(
            fit_bertopic(docs, doc_vectors, params, params.seed, None, represent=False), params
        )
    refits = {}
    for run_index in runs:
        seed = params.seed + run_index
        if params.method == "bertopic":
            refits[run_index] = cluster_documents(doc_vectors, params, seed)
        else:
            assert nmf_topics is not None
            refits[run_index] = fit_nmf(docs, nmf_topics, params, seed).assignments
    return refits


def nmf_topic_count(bert: TopicModelResult, params: TopicSettings) -> int:
    n_real = len([t for t in bert.terms if t != -1])
    return max(n_real if params.nmf_topics == "auto" else int(params.nmf_topics), 2)


def run_refits(
    records_path: str,
    segments_path: str,
    vectors_path: str,
    outs: dict[int, str],
    settings: dict[str, Any] | None = None,
) -> dict[int, int]:
    """Extra fits for the stability check: refit ``run`` (seed ``seed + run``) writes its
    assignments to ``outs[run]``. Returns each refit's number of topics.

    The workflow runs them in one job beside the fit; each refit depends only on its
    seed, so one job or several give the same tables.
    """
    params = TopicSettings.model_validate(settings or {})
    ids, docs, doc_vectors = documents(records_path, segments_path, vectors_path)
    if len(ids) < MIN_DOCUMENTS:
        ids, refits = [], {run_index: np.zeros(0, np.int64) for run_index in outs}
    else:
        refits = refit_assignments(docs, doc_vectors, params, list(outs))
    counts = {}
    for run_index, out in outs.items():
        assignments = refits[run_index].astype(np.int64)
        write_table(pd.DataFrame({"record_id": ids, "topic": assignments}), out, TOPIC_RUN, "topic_run")
        counts[run_index] = len(set(assignments.tolist()) - {-1})
    return counts


def read_refit(path: str, ids: list[str]) -> np.ndarray:
    """A refit's topic of each record in ``ids``, in that order."""
    table = read_table(path, TOPIC_RUN).set_index("record_id")["topic"]
    if sorted(table.index) != sorted(ids):
        raise ValueError(f"{path}: refit covers other records than this fit; rerun the workflow")
    return table.loc[ids].to_numpy()


def with_stability(
    topics: pd.DataFrame,
    summary: dict[str, Any],
    assignments: np.ndarray,
    refits: list[np.ndarray],
    params: TopicSettings,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The fitted topics and fit summary with the stability check against ``refits``
    (each an assignment of the same documents, in the same order)."""
    summary_stability, per_topic = stability(assignments, refits)
    values = [per_topic.get(int(t), float("nan")) for t in topics["topic"]]
    topics = topics.assign(
        stability=pd.Series(values, index=topics.index, dtype=float),
        stable=[
            bool(t == -1 or np.isnan(v) or v >= params.stability_threshold)
            for t, v in zip(topics["topic"], values, strict=True)
        ],
    )
    summary = {
        **summary,
        "stability": {k: (round(v, 6) if isinstance(v, float) else v) for k, v in summary_stability.items()},
        "unstable_topics": int((~topics["stable"]).sum()),
    }
    return topics, summary


def run_stability(
    records_path: str,
    vectors_path: str,
    topics_path: str,
    doc_topics_path: str,
    summary_path: str,
    refit_paths: list[str],
    out_topics: str,
    out_summary: str,
    out_model: str | None = None,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Add the stability check to a fit written with ``run(..., stability_later=True)``.

    The result is byte for byte what ``run`` writes when it is given the refits itself.
    """
    params = TopicSettings.model_validate(settings or {})
    topics = read_table(topics_path, TOPICS)
    summary = json.loads(Path(summary_path).read_text(encoding="utf-8"))
    if topics.empty:
        write_table(topics, out_topics, TOPICS, "topics")
        write_json(summary, out_summary)
        if out_model:
            save_skipped_model(out_model)
        return summary
    # The documents in the order the fit saw them: a topic centroid sums its members in it.
    ids, doc_vectors = document_vectors(records_path, vectors_path)
    fitted = read_table(doc_topics_path, DOC_TOPICS).set_index("record_id")
    if sorted(ids) != sorted(fitted.index):
        raise ValueError(f"{doc_topics_path}: the fit covers other records than {records_path}; rerun the workflow")
    doc_topics = fitted.loc[ids].reset_index()
    assignments = doc_topics["topic"].to_numpy()
    topics, summary = with_stability(topics, summary, assignments, [read_refit(p, ids) for p in refit_paths], params)
    write_table(topics, out_topics, TOPICS, "topics")
    write_json(summary, out_summary)
    if out_model:
        save_fitted_model(topics, doc_topics, doc_vectors, summary, out_model)
    log.info("topic stability: %s", summary["stability"])
    return summary
