"""Topics stage I/O: documents + embeddings + coding -> topics, document topics, summary."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from litthemes.codebook import load_codebook
from litthemes.config import EmbedSettings, TopicSettings
from litthemes.embed import embed_texts, read_vectors, row_dot
from litthemes.shards import read_gathered
from litthemes.tables import (
    CODES,
    DOC_TOPICS,
    RECORDS,
    SEGMENTS,
    TOPIC_RUN,
    TOPICS,
    atomic_path,
    read_table,
    write_json,
    write_table,
    write_text,
)
from litthemes.topics import (
    MIN_DOCUMENTS,
    Cooccurrence,
    TopicModelResult,
    align,
    cached_embedder,
    cluster_documents,
    fit_bertopic,
    fit_nmf,
    min_topic_size,
    npmi_coherence,
    representative,
    scored_terms,
    stability,
)

log = logging.getLogger(__name__)


def _empty(out_topics: str, out_docs: str, out_summary: str, reason: str) -> dict[str, Any]:
    write_table(pd.DataFrame(columns=TOPICS.names), out_topics, TOPICS, "topics")
    write_table(pd.DataFrame(columns=DOC_TOPICS.names), out_docs, DOC_TOPICS, "doc_topics")
    summary = {"method": "none", "skipped": reason}
    write_json(summary, out_summary)
    return summary


# The first characters of a full text that stand for the document, as in embed.document_text.
FULLTEXT_CHARS = 2000


def topic_documents(segments: pd.DataFrame, record_ids: list[str]) -> list[str]:
    """Each record's lemmas (title, abstract, start of the full text), from the segment stage.

    Reusing the segments' lemmas spares a second spaCy pass over the corpus.
    """
    use = segments[(segments["field"] != "fulltext") | (segments["start_char"] < FULLTEXT_CHARS)]
    joined = use.groupby("record_id", sort=False)["lemmas"].agg(lambda parts: " ".join(p for p in parts if p))
    return [str(joined.get(rid, "")) for rid in record_ids]


def _document_vectors(records_path: str, vectors_path: str) -> tuple[list[str], np.ndarray]:
    """Included record ids with a document vector, in record-table order (the order the
    topic models see them in), and their vectors."""
    records = read_table(records_path, RECORDS)
    keys, vectors = read_vectors(vectors_path)
    position = {rid: i for i, rid in enumerate(keys["record_id"])}
    ids = [rid for rid in records.loc[records["status"] == "included", "record_id"] if rid in position]
    return ids, vectors[[position[r] for r in ids]] if ids else vectors[:0]


def _documents(records_path: str, segments_path: str, vectors_path: str) -> tuple[list[str], list[str], np.ndarray]:
    """:func:`_document_vectors` and each record's lemma document."""
    ids, doc_vectors = _document_vectors(records_path, vectors_path)
    return ids, topic_documents(read_table(segments_path, SEGMENTS), ids), doc_vectors


def _refits(docs: list[str], doc_vectors: np.ndarray, params: TopicSettings, runs: list[int],
            nmf_topics: int | None = None) -> dict[int, np.ndarray]:
    """Each refit's assignments (refit ``run`` uses seed ``seed + run``).

    NMF refits take the primary model's topic count: ``nmf_topics`` where the caller
    has it, else from one BERTopic fit shared by all of them.
    """
    if params.method == "nmf" and nmf_topics is None and runs:
        nmf_topics = _nmf_topics(fit_bertopic(docs, doc_vectors, params, params.seed, None, represent=False), params)
    refits = {}
    for run_index in runs:
        seed = params.seed + run_index
        if params.method == "bertopic":
            refits[run_index] = cluster_documents(doc_vectors, params, seed)
        else:
            assert nmf_topics is not None
            refits[run_index] = fit_nmf(docs, nmf_topics, params, seed).assignments
    return refits


def _nmf_topics(bert: TopicModelResult, params: TopicSettings) -> int:
    n_real = len([t for t in bert.terms if t != -1])
    return max(n_real if params.nmf_topics == "auto" else int(params.nmf_topics), 2)


def run_refits(records_path: str, segments_path: str, vectors_path: str, outs: dict[int, str],
               settings: dict[str, Any] | None = None) -> dict[int, int]:
    """Extra fits for the stability check: refit ``run`` (seed ``seed + run``) writes its
    assignments to ``outs[run]``. Returns each refit's number of topics.

    The workflow runs them in one job beside the fit; each refit depends only on its
    seed, so one job or several give the same tables.
    """
    params = TopicSettings.model_validate(settings or {})
    ids, docs, doc_vectors = _documents(records_path, segments_path, vectors_path)
    if len(ids) < MIN_DOCUMENTS:
        ids, refits = [], {run_index: np.zeros(0, np.int64) for run_index in outs}
    else:
        refits = _refits(docs, doc_vectors, params, list(outs))
    counts = {}
    for run_index, out in outs.items():
        assignments = refits[run_index].astype(np.int64)
        write_table(pd.DataFrame({"record_id": ids, "topic": assignments}), out, TOPIC_RUN, "topic_run")
        counts[run_index] = len(set(assignments.tolist()) - {-1})
    return counts


def run(records_path: str, segments_path: str, vectors_path: str, out_topics: str, out_docs: str,
        out_summary: str, out_hierarchy: str | None = None, settings: dict[str, Any] | None = None,
        embed_settings: dict[str, Any] | None = None, refit_paths: list[str] | None = None,
        out_model: str | None = None, stability_later: bool = False) -> dict[str, Any]:
    """Fit the topic models. The codebook plays no part here (see :func:`run_align`),
    so editing the codebook never refits the topics.

    ``refit_paths`` are :func:`run_refits` outputs for the stability check; without
    them the refits are fitted here, one after the other. With ``stability_later`` the
    fit is written without a stability check (no refits wait for it, nor it for them) and
    :func:`run_stability` adds it; the workflow does this so that the fit and the refits
    run side by side. ``out_model`` receives the fitted topics in the form
    ``topics.frozen_model`` reads. With ``topics.frozen_model`` set, nothing is fitted:
    see :func:`assign_frozen`.
    """
    params = TopicSettings.model_validate(settings or {})
    embed = EmbedSettings.model_validate(embed_settings or {})
    if stability_later and (refit_paths or out_model):
        raise ValueError("with stability_later, refits and the model file go to run_stability")
    ids, docs, doc_vectors = _documents(records_path, segments_path, vectors_path)
    if out_hierarchy:
        write_text("parent_id,parent_name,child_left_id,child_right_id,distance\n", out_hierarchy)
    if params.frozen_model:
        return assign_frozen(params.frozen_model, ids, docs, doc_vectors, params, out_topics, out_docs,
                             out_summary, out_model)
    if len(ids) < MIN_DOCUMENTS:
        if out_model:
            _save_skipped_model(out_model)
        return _empty(out_topics, out_docs, out_summary, f"only {len(ids)} documents (< {MIN_DOCUMENTS})")

    embedding_model = cached_embedder(embed)
    bert = fit_bertopic(docs, doc_vectors, params, params.seed, embedding_model)
    # A timing, so it goes to the log and not into the (byte-identical) summary.
    log.info("BERTopic fit on %d documents: %.2f s", len(docs), bert.fit_seconds)
    n_real = len([t for t in bert.terms if t != -1])
    nmf = fit_nmf(docs, _nmf_topics(bert, params), params, params.seed)
    cooccurrence = Cooccurrence(docs, scored_terms(bert.terms, nmf.terms))
    coherence = {"bertopic": cooccurrence.npmi(bert.terms), "nmf": cooccurrence.npmi(nmf.terms)}
    primary: TopicModelResult = bert if params.method == "bertopic" else nmf

    reps = representative(primary, doc_vectors, ids)
    rows = []
    for topic in sorted(primary.terms):
        rows.append({
            "topic": int(topic), "size": int((primary.assignments == topic).sum()), "label": primary.labels[topic],
            "top_terms": "; ".join(primary.terms[topic]),
            "aligned_theme": "", "alignment": float("nan"), "emergent": False,  # filled by run_align
            "stability": float("nan"), "stable": True,  # filled by with_stability
            "representative_records": "; ".join(reps.get(topic, [])),
        })
    topics = pd.DataFrame(rows)
    doc_topics = pd.DataFrame({"record_id": ids, "topic": primary.assignments.astype(np.int64),
                               "probability": np.round(primary.probabilities.astype(float), 6)})
    summary = {
        "method": params.method,
        "documents": len(docs),
        "topics": n_real if params.method == "bertopic" else len(nmf.terms),
        "outlier_share_before_reduction": round(bert.outlier_share, 6),
        "outlier_share": round(float(np.mean(primary.assignments == -1)), 6),
        "coherence_npmi": {k: round(v, 6) for k, v in coherence.items()},
        "min_topic_size": min_topic_size(len(docs), params.min_topic_size),
    }
    if out_hierarchy and params.method == "bertopic" and not bert.hierarchy.empty:
        columns = ["Parent_ID", "Parent_Name", "Child_Left_ID", "Child_Right_ID", "Distance"]
        hierarchy = bert.hierarchy[[c for c in columns if c in bert.hierarchy]]
        hierarchy.columns = [c.lower() for c in hierarchy.columns]
        write_text(hierarchy.to_csv(index=False, float_format="%.6f"), out_hierarchy)
    if not stability_later:
        if refit_paths is None:
            refits = list(_refits(docs, doc_vectors, params, list(range(1, params.stability_runs)),
                                  _nmf_topics(bert, params)).values())
        else:
            refits = [_read_refit(path, ids) for path in refit_paths]
        topics, summary = with_stability(topics, summary, primary.assignments, refits, params)
    write_table(topics, out_topics, TOPICS, "topics")
    write_table(doc_topics.sort_values("record_id").reset_index(drop=True), out_docs, DOC_TOPICS, "doc_topics")
    write_json(summary, out_summary)
    if out_model:
        _save_fitted_model(topics, doc_topics, doc_vectors, summary, out_model)
    log.info("topics: %s", summary)
    return summary


def _read_refit(path: str, ids: list[str]) -> np.ndarray:
    """A refit's topic of each record in ``ids``, in that order."""
    table = read_table(path, TOPIC_RUN).set_index("record_id")["topic"]
    if sorted(table.index) != sorted(ids):
        raise ValueError(f"{path}: refit covers other records than this fit; rerun the workflow")
    return table.loc[ids].to_numpy()


def with_stability(topics: pd.DataFrame, summary: dict[str, Any], assignments: np.ndarray,
                   refits: list[np.ndarray], params: TopicSettings) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The fitted topics and fit summary with the stability check against ``refits``
    (each an assignment of the same documents, in the same order)."""
    summary_stability, per_topic = stability(assignments, refits)
    values = [per_topic.get(int(t), float("nan")) for t in topics["topic"]]
    topics = topics.assign(
        stability=pd.Series(values, index=topics.index, dtype=float),
        stable=[bool(t == -1 or np.isnan(v) or v >= params.stability_threshold)
                for t, v in zip(topics["topic"], values, strict=True)])
    summary = {**summary,
               "stability": {k: (round(v, 6) if isinstance(v, float) else v) for k, v in summary_stability.items()},
               "unstable_topics": int((~topics["stable"]).sum())}
    return topics, summary


def run_stability(records_path: str, vectors_path: str, topics_path: str, doc_topics_path: str, summary_path: str,
                  refit_paths: list[str], out_topics: str, out_summary: str, out_model: str | None = None,
                  settings: dict[str, Any] | None = None) -> dict[str, Any]:
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
            _save_skipped_model(out_model)
        return summary
    # The documents in the order the fit saw them: a topic centroid sums its members in it.
    ids, doc_vectors = _document_vectors(records_path, vectors_path)
    fitted = read_table(doc_topics_path, DOC_TOPICS).set_index("record_id")
    if sorted(ids) != sorted(fitted.index):
        raise ValueError(f"{doc_topics_path}: the fit covers other records than {records_path}; rerun the workflow")
    doc_topics = fitted.loc[ids].reset_index()
    assignments = doc_topics["topic"].to_numpy()
    topics, summary = with_stability(topics, summary, assignments, [_read_refit(p, ids) for p in refit_paths], params)
    write_table(topics, out_topics, TOPICS, "topics")
    write_json(summary, out_summary)
    if out_model:
        _save_fitted_model(topics, doc_topics, doc_vectors, summary, out_model)
    log.info("topic stability: %s", summary["stability"])
    return summary


def _save_fitted_model(topics: pd.DataFrame, doc_topics: pd.DataFrame, doc_vectors: np.ndarray,
                       summary: dict[str, Any], out_model: str) -> None:
    """:func:`save_model` for a fit; ``doc_topics`` and ``doc_vectors`` in the fit's document order."""
    ids = doc_topics["record_id"].tolist()
    assignments = doc_topics["topic"].to_numpy()
    probability = doc_topics["probability"].to_numpy()
    members = {int(t): [(ids[i], float(probability[i])) for i in np.flatnonzero(assignments == t)]
               for t in topics["topic"]}
    save_model(topics, members, centroids(assignments, doc_vectors), summary, out_model)


def _save_skipped_model(out_model: str) -> None:
    save_model(pd.DataFrame(columns=TOPICS.names), {}, {}, {"skipped": True}, out_model)


def centroids(assignments: np.ndarray, doc_vectors: np.ndarray) -> dict[int, np.ndarray]:
    """Unit-normalised mean embedding of each topic's documents."""
    out = {}
    for topic in sorted(set(assignments.tolist())):
        mean = doc_vectors[assignments == topic].astype(np.float64).mean(axis=0)
        out[int(topic)] = (mean / (np.linalg.norm(mean) or 1.0)).astype(np.float32)
    return out


def save_model(topics: pd.DataFrame, members: dict[int, list[tuple[str, float]]],
               topic_centroids: dict[int, np.ndarray], summary: dict[str, Any], out: str) -> None:
    """The fitted topics as one Parquet file: terms, stability, centroid and member records.

    The fit summary rides along in the file's metadata, so a frozen model carries
    the stability and coherence it was fitted with.
    """
    dim = len(next(iter(topic_centroids.values()))) if topic_centroids else 0
    topic_ids = [int(t) for t in topics["topic"]]
    table = pa.table({
        "topic": pa.array(topic_ids, pa.int64()),
        "label": pa.array([str(v) for v in topics["label"]], pa.string()),
        "top_terms": pa.array([str(v) for v in topics["top_terms"]], pa.string()),
        "stability": pa.array([float(v) for v in topics["stability"]], pa.float64()),
        "centroid": pa.array([topic_centroids[t].tolist() for t in topic_ids], pa.list_(pa.float32(), dim) if dim else pa.list_(pa.float32())),
        "members": pa.array([[m for m, _ in sorted(members.get(t, []))] for t in topic_ids], pa.list_(pa.string())),
        "member_probabilities": pa.array([[p for _, p in sorted(members.get(t, []))] for t in topic_ids],
                                         pa.list_(pa.float64())),
    })
    table = table.replace_schema_metadata({"litthemes.fit_summary": json.dumps(summary, sort_keys=True)})
    with atomic_path(out) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def assign_frozen(model_path: str, ids: list[str], docs: list[str], doc_vectors: np.ndarray, params: TopicSettings,
                  out_topics: str, out_docs: str, out_summary: str, out_model: str | None) -> dict[str, Any]:
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
    missing = {"topic", "label", "top_terms", "stability", "centroid", "members", "member_probabilities"} - set(table.column_names)
    if missing:
        raise ValueError(f"topics.frozen_model {model_path}: not a topic model (missing {sorted(missing)})")
    fitted = json.loads((table.schema.metadata or {}).get(b"litthemes.fit_summary", b"{}"))
    model = table.to_pandas()
    if model.empty:
        raise ValueError(f"topics.frozen_model {model_path}: the model has no topics")
    known = {rid: (int(t), float(p)) for t, members, probabilities
             in zip(model["topic"], model["members"], model["member_probabilities"], strict=True)
             for rid, p in zip(members, probabilities, strict=True)}
    real = model[model["topic"] != -1]
    matrix = np.vstack(real["centroid"].to_list()).astype(np.float64)
    if doc_vectors.shape[1] != matrix.shape[1]:
        raise ValueError(f"topics.frozen_model {model_path}: centroids have {matrix.shape[1]} dimensions, the "
                         f"document embeddings {doc_vectors.shape[1]}; was it fitted with another embedding model?")
    sims = row_dot(doc_vectors, matrix) if len(ids) else np.zeros((0, len(real)), np.float32)
    nearest = real["topic"].to_numpy()[sims.argmax(axis=1)] if len(ids) else np.zeros(0, np.int64)
    position = {int(t): j for j, t in enumerate(real["topic"])}
    chosen = [known.get(rid, (int(t), float(sims[i, position[int(t)]]))) for i, (rid, t) in enumerate(zip(ids, nearest, strict=True))]
    assignments = np.asarray([t for t, _ in chosen], np.int64)
    probability = [p for _, p in chosen]
    terms = {int(t): str(v).split("; ") for t, v in zip(model["topic"], model["top_terms"], strict=True)}
    result = TopicModelResult("bertopic", assignments, np.asarray(probability), terms,
                              dict(zip(model["topic"].astype(int), model["label"].astype(str), strict=True)), 0.0)
    reps = representative(result, doc_vectors, ids)
    topics = pd.DataFrame({
        "topic": model["topic"].astype(np.int64),
        "size": [int((assignments == t).sum()) for t in model["topic"]],
        "label": model["label"], "top_terms": model["top_terms"],
        "aligned_theme": "", "alignment": float("nan"), "emergent": False,
        "stability": model["stability"].astype(float),
        "stable": [bool(t == -1 or np.isnan(v) or v >= params.stability_threshold)
                   for t, v in zip(model["topic"], model["stability"], strict=True)],
        "representative_records": ["; ".join(reps.get(int(t), [])) for t in model["topic"]],
    })
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
        "coherence_npmi": {**fitted.get("coherence_npmi", {}),
                           "frozen_terms_on_these_documents": round(npmi_coherence(docs, terms), 6)},
        "stability": fitted.get("stability", {"runs": 1, "ari_mean": float("nan")}),
        "unstable_topics": int((~topics["stable"]).sum()),
    }
    write_json(summary, out_summary)
    if out_model:
        members = {int(t): [(ids[i], probability[i]) for i in np.flatnonzero(assignments == t)] for t in model["topic"]}
        frozen_centroids = {int(t): np.asarray(c, np.float32) for t, c in zip(model["topic"], model["centroid"], strict=True)}
        save_model(topics, members, frozen_centroids, {**fitted, "assigned_with_frozen_model": str(model_path)}, out_model)
    log.info("topics (frozen model %s): %d documents, %d new", model_path, len(ids), new)
    return summary


def run_align(topics_path: str, doc_topics_path: str, vectors_path: str, codes_path: str | list[str],
              codebook_path: str, fit_summary_path: str, out_topics: str, out_summary: str,
              settings: dict[str, Any] | None = None, embed_settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """Align fitted topics to the codebook's themes and flag emergent ones.

    ``codes_path`` may be the list of the coding shards' code tables.
    """
    params = TopicSettings.model_validate(settings or {})
    embed = EmbedSettings.model_validate(embed_settings or {})
    topics = read_table(topics_path, TOPICS)
    summary = json.loads(Path(fit_summary_path).read_text(encoding="utf-8"))
    if topics.empty:
        write_table(topics, out_topics, TOPICS, "topics")
        write_json({**summary, "emergent_topics": 0}, out_summary)
        return summary
    book = load_codebook(codebook_path)
    doc_topics = read_table(doc_topics_path, DOC_TOPICS)
    keys, vectors = read_vectors(vectors_path)
    position = {rid: i for i, rid in enumerate(keys["record_id"])}
    ids = doc_topics["record_id"].tolist()
    fitted = TopicModelResult(
        method=summary.get("method", ""), assignments=doc_topics["topic"].to_numpy(),
        probabilities=doc_topics["probability"].to_numpy(),
        terms={int(r.topic): str(r.top_terms).split("; ") for r in topics.itertuples()},
        labels={int(r.topic): str(r.label) for r in topics.itertuples()}, outlier_share=0.0)
    # One call: each call reads the embedding cache from disk.
    prototypes = [(t.id, p) for t in book.themes for p in t.prototypes]
    vectors_all = embed_texts([p for _, p in prototypes], embed)
    owners = np.asarray([theme for theme, _ in prototypes])
    theme_vectors = {t.id: vectors_all[owners == t.id] for t in book.themes}
    alignment = align(fitted, vectors[[position[r] for r in ids]], ids, read_gathered(codes_path, CODES), theme_vectors,
                      params).set_index("topic")
    topics["aligned_theme"] = topics["topic"].map(alignment["aligned_theme"]).fillna("")
    topics["alignment"] = topics["topic"].map(alignment["alignment"]).astype(float)
    topics["emergent"] = topics["topic"].map(alignment["emergent"]).fillna(False).astype(bool)
    write_table(topics, out_topics, TOPICS, "topics")
    summary["emergent_topics"] = int(topics["emergent"].sum())
    summary["codebook"] = book.stamp
    write_json(summary, out_summary)
    return summary
