"""Frozen topic models: a fit saved as one file, and new records assigned to its topics.

For daily runs while a corpus grows: the model keeps each fitted record's topic and
each topic's centroid, and a new record takes the topic whose centroid is closest
(see :func:`assign_frozen`).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from litthemes.config import TopicSettings
from litthemes.embed import row_dot
from litthemes.tables import DOC_TOPICS, TOPICS, atomic_path, write_json, write_table
from litthemes.topics.coherence import npmi_coherence
from litthemes.topics.fit import TopicModelResult, representative

log = logging.getLogger(__name__)


def save_fitted_model(
    topics: pd.DataFrame, doc_topics: pd.DataFrame, doc_vectors: np.ndarray, summary: dict[str, Any], out_model: str
) -> None:
    """:func:`save_model` for a fit; ``doc_topics`` and ``doc_vectors`` in the fit's document order."""
    ids = doc_topics["record_id"].tolist()
    assignments = doc_topics["topic"].to_numpy()
    probability = doc_topics["probability"].to_numpy()
    members = {
        int(t): [(ids[i], float(probability[i])) for i in np.flatnonzero(assignments == t)] for t in topics["topic"]
    }
    save_model(topics, members, centroids(assignments, doc_vectors), summary, out_model)


def save_skipped_model(out_model: str) -> None:
    save_model(pd.DataFrame(columns=TOPICS.names), {}, {}, {"skipped": True}, out_model)


def centroids(assignments: np.ndarray, doc_vectors: np.ndarray) -> dict[int, np.ndarray]:
    """Unit-normalised mean embedding of each topic's documents."""
    out = {}
    for topic in sorted(set(assignments.tolist())):
        mean = doc_vectors[assignments == topic].astype(np.float64).mean(axis=0)
        out[int(topic)] = (mean / (np.linalg.norm(mean) or 1.0)).astype(np.float32)
    return out


def save_model(
    topics: pd.DataFrame,
    members: dict[int, list[tuple[str, float]]],
    topic_centroids: dict[int, np.ndarray],
    summary: dict[str, Any],
    out: str,
) -> None:
    """The fitted topics as one Parquet file: terms, stability, centroid and member records.

    The fit summary rides along in the file's metadata, so a frozen model carries
    the stability and coherence it was fitted with.
    """
    dim = len(next(iter(topic_centroids.values()))) if topic_centroids else 0
    topic_ids = [int(t) for t in topics["topic"]]
    table = pa.table(
        {
            "topic": pa.array(topic_ids, pa.int64()),
            "label": pa.array([str(v) for v in topics["label"]], pa.string()),
            "top_terms": pa.array([str(v) for v in topics["top_terms"]], pa.string()),
            "stability": pa.array([float(v) for v in topics["stability"]], pa.float64()),
            "centroid": pa.array(
                [topic_centroids[t].tolist() for t in topic_ids],
                pa.list_(pa.float32(), dim) if dim else pa.list_(pa.float32()),
            ),
            "members": pa.array([[m for m, _ in sorted(members.get(t, []))] for t in topic_ids], pa.list_(pa.string())),
            "member_probabilities": pa.array(
                [[p for _, p in sorted(members.get(t, []))] for t in topic_ids], pa.list_(pa.float64())
            ),
        }
    )
    table = table.replace_schema_metadata({"litthemes.fit_summary": json.dumps(summary, sort_keys=True)})
    with atomic_path(out) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def assign_frozen(
    model_path: str,
    ids: list[str],
    docs: list[str],
    doc_vectors: np.ndarray,
    params: TopicSettings,
    out_topics: str,
    out_docs: str,
    out_summary: str,
    out_model: str | None,
) -> dict[str, Any]:
    """Topics of a saved model, nothing refitted: for daily runs while a corpus grows.

    A record the model was fitted on keeps its topic; any other record takes the topic
    whose centroid is closest to its embedding (the rule BERTopic's outlier reduction
    by embeddings uses). The probability column is that cosine similarity for each
    record it assigns; fitted records keep their fitted probability too, so on the corpus
    it was fitted on the model reproduces the fit. The result depends only on the model
    file and the inputs, so a rerun gives the same tables; refit (clear
    ``topics.frozen_model``) when the corpus has moved on.
    """
    try:
        table = pq.read_table(model_path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise ValueError(f"topics.frozen_model {model_path}: cannot read a saved topic model ({exc})") from None
    missing = {"topic", "label", "top_terms", "stability", "centroid", "members", "member_probabilities"} - set(
        table.column_names
    )
    if missing:
        raise ValueError(f"topics.frozen_model {model_path}: not a topic model (missing {sorted(missing)})")
    fitted = json.loads((table.schema.metadata or {}).get(b"litthemes.fit_summary", b"{}"))
    model = table.to_pandas()
    if model.empty:
        raise ValueError(f"topics.frozen_model {model_path}: the model has no topics")
    known = {
        rid: (int(t), float(p))
        for t, members, probabilities in zip(
            model["topic"], model["members"], model["member_probabilities"], strict=True
        )
        for rid, p in zip(members, probabilities, strict=True)
    }
    real = model[model["topic"] != -1]
    matrix = np.vstack(real["centroid"].to_list()).astype(np.float64)
    if doc_vectors.shape[1] != matrix.shape[1]:
        raise ValueError(
            f"topics.frozen_model {model_path}: centroids have {matrix.shape[1]} dimensions, the "
            f"document embeddings {doc_vectors.shape[1]}; was it fitted with another embedding model?"
        )
    sims = row_dot(doc_vectors, matrix) if len(ids) else np.zeros((0, len(real)), np.float32)
    nearest = real["topic"].to_numpy()[sims.argmax(axis=1)] if len(ids) else np.zeros(0, np.int64)
    position = {int(t): j for j, t in enumerate(real["topic"])}
    chosen = [
        known.get(rid, (int(t), float(sims[i, position[int(t)]])))
        for i, (rid, t) in enumerate(zip(ids, nearest, strict=True))
    ]
    assignments = np.asarray([t for t, _ in chosen], np.int64)
    probability = [p for _, p in chosen]
    terms = {int(t): str(v).split("; ") for t, v in zip(model["topic"], model["top_terms"], strict=True)}
    result = TopicModelResult(
        "bertopic",
        assignments,
        np.asarray(probability),
        terms,
        dict(zip(model["topic"].astype(int), model["label"].astype(str), strict=True)),
        0.0,
    )
    reps = representative(result, doc_vectors, ids)
    topics = pd.DataFrame(
        {
            "topic": model["topic"].astype(np.int64),
            "size": [int((assignments == t).sum()) for t in model["topic"]],
            "label": model["label"],
            "top_terms": model["top_terms"],
            "aligned_theme": "",
            "alignment": float("nan"),
            "domain_share": float("nan"),
            "emergent": False,
            "stability": model["stability"].astype(float),
            "stable": [
                bool(t == -1 or np.isnan(v) or v >= params.stability_threshold)
                for t, v in zip(model["topic"], model["stability"], strict=True)
            ],
            "representative_records": ["; ".join(reps.get(int(t), [])) for t in model["topic"]],
        }
    )
    doc_topics = pd.DataFrame({"record_id": ids, "topic": assignments, "probability": np.round(probability, 6)})
    write_table(topics, out_topics, TOPICS, "topics")
    write_table(doc_topics.sort_values("record_id").reset_index(drop=True), out_docs, DOC_TOPICS, "doc_topics")
    new = sum(rid not in known for rid in ids)
    summary = {
        "method": f"{fitted.get('method', 'bertopic')} (frozen model)",
        "frozen_model": str(model_path),
        "fitted_documents": int(fitted.get("documents", len(known))),
        "documents": len(ids),
        "assigned_to_nearest_topic": new,
        "topics": int((model["topic"] != -1).sum()),
        "outlier_share": round(float(np.mean(assignments == -1)) if len(ids) else 0.0, 6),
        # Outliers before reduction, coherence and stability belong to the fit; carried over.
        "outlier_share_before_reduction": fitted.get("outlier_share_before_reduction", 0.0),
        "coherence_npmi": {
            **fitted.get("coherence_npmi", {}),
            "frozen_terms_on_these_documents": round(npmi_coherence(docs, terms), 6),
        },
        "stability": fitted.get("stability", {"runs": 1, "ari_mean": float("nan")}),
        "unstable_topics": int((~topics["stable"]).sum()),
    }
    write_json(summary, out_summary)
    if out_model:
        members = {int(t): [(ids[i], probability[i]) for i in np.flatnonzero(assignments == t)] for t in model["topic"]}
        frozen_centroids = {
            int(t): np.asarray(c, np.float32) for t, c in zip(model["topic"], model["centroid"], strict=True)
        }
        save_model(
            topics, members, frozen_centroids, {**fitted, "assigned_with_frozen_model": str(model_path)}, out_model
        )
    log.info("topics (frozen model %s): %d documents, %d new", model_path, len(ids), new)
    return summary
