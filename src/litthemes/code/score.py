"""Scoring: segment evidence, segment codes, and record salience, rank and presence.

See :mod:`litthemes.code` for the model in words. The functions here turn lexical hits
(:mod:`litthemes.code.lexical`) and semantic probabilities (:mod:`litthemes.code.semantic`)
into the SEGMENT_CODES, CODES and EVIDENCE tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from litthemes.code.lexical import CueHit, LexicalCoder, cue_mass, strong_mass
from litthemes.code.semantic import PrototypeClassifier, SegmentClassifier
from litthemes.codebook import THEME, Code, Codebook
from litthemes.config import CodeSettings, EmbedSettings
from litthemes.segment import load_pipeline
from litthemes.tables import CODES, EVIDENCE, SEGMENT_CODES

# A theme (codebook.THEME) is coded in a segment only where it has a fair share of the
# segment's evidence (CodeSettings.min_share). Other dimensions (credential type,
# stakeholder, setting) describe what a passage mentions, so any cue codes them.

# Segment x code rows with less evidence than this carry no information and are not
# stored (salience is computed from the stored rows, in every run alike).
STORE_MIN_EVIDENCE = 0.05


def code_segments(
    segments: pd.DataFrame,
    vectors: np.ndarray | None,
    codebook: Codebook,
    settings: CodeSettings | None = None,
    embed_settings: EmbedSettings | None = None,
    nlp_model: str = "auto",
    matches: Sequence[dict[str, list[CueHit]]] | None = None,
    classifier: SegmentClassifier | None = None,
) -> pd.DataFrame:
    """Score every segment against every code; keep the rows with evidence.

    ``matches`` are the segments' lexical hits (:meth:`LexicalCoder.match`, one per
    segment row) when the caller has them, from a cache for instance; ``classifier``
    the semantic model (the codebook's prototypes by default).
    """
    settings = settings or CodeSettings()
    embed_settings = embed_settings or EmbedSettings()
    if matches is None:
        coder = LexicalCoder(codebook, load_pipeline(nlp_model), settings.weak_cue_weight)
        matches = coder.match_all(segments["lemmas"].tolist())
    codes = codebook.codes
    index = {c.id: i for i, c in enumerate(codes)}
    n = len(segments)
    if len(matches) != n:
        raise ValueError(f"{len(matches)} lexical matches for {n} segments")
    mass = np.zeros((n, len(codes)), dtype=np.float64)
    strong = np.zeros((n, len(codes)), dtype=np.float64)
    blocked = np.zeros((n, len(codes)), dtype=bool)
    cues = np.full((n, len(codes)), "", dtype=object)
    for row, found in enumerate(matches):
        for code_id, hits in found.items():
            j = index[code_id]
            if hits:
                mass[row, j] = cue_mass(hits)
                strong[row, j] = strong_mass(hits)
                cues[row, j] = "; ".join(dict.fromkeys(text for text, _ in hits))
            else:
                blocked[row, j] = True
    sem = np.zeros((n, len(codes)), dtype=np.float64)
    decoded = None
    # Whether each segment is as close to a code's own texts as the literature they describe
    # (all True without vectors): coding by meaning alone asks it, and so does a record's main
    # theme without a coded segment (aggregate), for which it is stored with each row.
    near = np.ones((n, len(codes)), dtype=bool)
    is_theme = np.array([c.dimension == THEME for c in codes])
    if vectors is not None and n:
        model = classifier or PrototypeClassifier(
            codebook, embed_settings, settings.semantic_c, min_similarity=settings.semantic_min_similarity
        )
        reach = model.reach(vectors)
        near = model.close(vectors, settings.semantic_only_min_similarity)
        probabilities, decoded = model.read(segments, vectors)
        sem = probabilities * reach
        # A theme's cue in a passage unlike anything the codebook describes is another sense
        # of the word (the 'rural settlement' of an archaeology abstract): it fades with the
        # semantic evidence. Other dimensions say what a passage mentions, whatever it is about.
        mass[:, is_theme] *= reach[:, is_theme]
        strong[:, is_theme] *= reach[:, is_theme]
    sem[blocked] = 0.0
    semantic = np.array([c.semantic for c in codes])
    sem[:, ~semantic] = 0.0
    # Weak cues alone count at most as one weak cue: two common words are no term.
    lexical = np.minimum(strong + np.minimum(mass - strong, settings.weak_cue_weight), 1.0)
    w = settings.lexical_weight
    score = w * lexical + (1 - w) * sem
    evidence = mass + settings.semantic_weight * sem
    share = _dimension_share(evidence, codes)
    # Coded through a cue: a term, two weak ones, or a weak one the embedding supports.
    by_cue = (mass > 0) & (score >= settings.present_threshold)
    # Coded without a cue: the segment's most likely code by far, no cue against it, and
    # the segment near the code's own texts; further off, the most likely code is an
    # extrapolation (a sentence on household poverty is not about the digital divide).
    by_meaning = semantic[None, :] & (sem >= settings.semantic_threshold) & _best_in_dimension(sem, codes) & near
    if decoded is not None:
        # Codes learnt with their order: the record's most likely sequence decides instead.
        columns, chosen = decoded
        by_meaning[:, columns] = False
    present = by_cue | by_meaning
    present &= ~is_theme[None, :] | (share >= settings.min_share)
    if decoded is not None:
        # The sequence chose the code against all the others already: no share test.
        present[:, columns] |= chosen & ~blocked[:, columns]
    keep_rows, keep_cols = np.nonzero((evidence >= STORE_MIN_EVIDENCE) | present)
    frame = pd.DataFrame(
        {
            "record_id": segments["record_id"].to_numpy()[keep_rows],
            "segment_index": segments["segment_index"].to_numpy()[keep_rows].astype(np.int64),
            "code": [codes[j].id for j in keep_cols],
            "dimension": [codes[j].dimension for j in keep_cols],
            "lexical": np.round(lexical[keep_rows, keep_cols], 6),
            "semantic": np.round(sem[keep_rows, keep_cols], 6),
            "score": np.round(score[keep_rows, keep_cols], 6),
            "evidence": np.round(evidence[keep_rows, keep_cols], 6),
            "share": np.round(share[keep_rows, keep_cols], 6),
            "near": near[keep_rows, keep_cols],
            "present": present[keep_rows, keep_cols],
            "cue": [
                cues[r, c] if cues[r, c] else ("semantic" if present[r, c] else "")
                for r, c in zip(keep_rows, keep_cols, strict=True)
            ],
        },
        columns=SEGMENT_CODES.names,
    )
    return frame.sort_values(["record_id", "segment_index", "code"], kind="stable").reset_index(drop=True)


def _dimension_groups(codes: Sequence[Code]) -> dict[str, np.ndarray]:
    groups: dict[str, list[int]] = {}
    for j, code in enumerate(codes):
        groups.setdefault(code.dimension, []).append(j)
    return {dimension: np.asarray(columns) for dimension, columns in groups.items()}


def _dimension_share(evidence: np.ndarray, codes: Sequence[Code]) -> np.ndarray:
    """Each code's part of its dimension's evidence in the segment."""
    share = np.zeros_like(evidence)
    for columns in _dimension_groups(codes).values():
        block = evidence[:, columns]
        total = block.sum(axis=1, keepdims=True)
        share[:, columns] = np.divide(block, total, out=np.zeros_like(block), where=total > 0)
    return share


def _best_in_dimension(sem: np.ndarray, codes: Sequence[Code]) -> np.ndarray:
    best = np.zeros(sem.shape, dtype=bool)
    for columns in _dimension_groups(codes).values():
        block = sem[:, columns]
        best[:, columns] = (block == block.max(axis=1, keepdims=True)) & (block > 0)
    return best


def aggregate(
    segment_codes: pd.DataFrame,
    record_ids: list[str],
    codebook: Codebook,
    dimension: str | None = THEME,
    main_min_evidence: float = 1.0,
    first_segment_weight: float = 1.5,
) -> pd.DataFrame:
    """Record x code table: best segment score, salience, rank, presence and support.

    ``dimension='theme'`` gives CODES (one row per record and theme); another
    dimension gives its own table; ``None`` gives every code. Salience and rank are
    computed within each code's dimension; a record's first segment (its title, or its
    opening sentence) counts ``first_segment_weight`` times in the salience, as the
    place where a text says what it is about. A record's main theme (rank 1) is present
    also where no single segment carries it, if its evidence in segments near the
    codebook (``near``) adds up to ``main_min_evidence`` (one term's worth): sentences
    each far from the codebook's texts add up in any long abstract of another literature.
    """
    codes: list[Code] = [c for c in codebook.codes if dimension is None or c.dimension == dimension]
    order = {c.id: k for k, c in enumerate(codebook.codes)}
    grid = pd.MultiIndex.from_product(
        [sorted(set(record_ids)), [c.id for c in codes]], names=["record_id", "theme"]
    ).to_frame(index=False)
    subset = segment_codes[segment_codes["code"].isin([c.id for c in codes])]
    if len(subset):
        # The best segment: the strongest present one, else the strongest.
        ordered = subset.assign(rank_present=~subset["present"]).sort_values(
            ["record_id", "code", "rank_present", "score", "evidence", "segment_index"],
            ascending=[True, True, True, False, False, True],
            kind="stable",
        )
        best = ordered.drop_duplicates(["record_id", "code"])[["record_id", "code", "segment_index"]]
        weighted = subset["evidence"] * np.where(subset["segment_index"] == 0, first_segment_weight, 1.0)
        sums = (
            subset.assign(evidence=weighted, near_evidence=weighted.where(subset["near"], 0.0))
            .groupby(["record_id", "code"], sort=False)
            .agg(score=("score", "max"), evidence=("evidence", "sum"), near_evidence=("near_evidence", "sum"))
        )
        support = subset[subset["present"]].groupby(["record_id", "code"]).size().rename("n_segments")
        best = best.merge(sums.reset_index(), on=["record_id", "code"], how="left")
        best = best.merge(support.reset_index(), on=["record_id", "code"], how="left")
        best = best.rename(columns={"code": "theme", "segment_index": "best_segment"})
    else:
        best = pd.DataFrame(
            columns=["record_id", "theme", "score", "evidence", "near_evidence", "best_segment", "n_segments"]
        )
    table = grid.merge(best, on=["record_id", "theme"], how="left")
    table["score"] = table["score"].astype(float).fillna(0.0)
    table["evidence"] = table["evidence"].astype(float).fillna(0.0)
    table["near_evidence"] = table["near_evidence"].astype(float).fillna(0.0)
    table["n_segments"] = table["n_segments"].astype(float).fillna(0).astype(np.int64)
    table["best_segment"] = table["best_segment"].astype(float).fillna(-1).astype(np.int64)
    table["present"] = table["n_segments"] > 0
    themes = table["theme"].tolist()  # a list: iterating an Arrow-backed column is slow
    meta = {c.id: c for c in codes}
    table["group"] = [meta[t].group or "" for t in themes]
    table["dimension"] = [meta[t].dimension for t in themes]
    totals = table.groupby(["record_id", "dimension"], sort=False)["evidence"].transform("sum")
    table["salience"] = np.round(
        np.divide(table["evidence"], totals, out=np.zeros(len(table)), where=totals.to_numpy() > 0), 6
    )
    table["codebook_order"] = [order[t] for t in themes]
    ranked = table.sort_values(
        ["record_id", "dimension", "salience", "score", "codebook_order"],
        ascending=[True, True, False, False, True],
        kind="stable",
    )
    position = ranked.groupby(["record_id", "dimension"], sort=False).cumcount() + 1
    table["rank"] = np.where(table["salience"] > 0, position.reindex(table.index), 0).astype(np.int64)
    table["present"] |= (table["rank"] == 1) & (table["near_evidence"] >= main_min_evidence)
    table["codebook_version"] = codebook.version
    table["codebook_hash"] = codebook.source_hash[:16]
    return table[CODES.names]


def evidence(segment_codes: pd.DataFrame, segments: pd.DataFrame, per_code: int) -> pd.DataFrame:
    """Best quotes per record and code (the present segments with most evidence), with
    offsets into the field they came from."""
    present = segment_codes[segment_codes["present"]]
    ranked = present.sort_values(
        ["record_id", "code", "evidence", "score", "segment_index"],
        ascending=[True, True, False, False, True],
        kind="stable",
    )
    ranked = ranked.groupby(["record_id", "code"], sort=False).head(per_code).copy()
    ranked["rank"] = ranked.groupby(["record_id", "code"], sort=False).cumcount() + 1
    merged = ranked.merge(
        segments[["record_id", "segment_index", "field", "start_char", "end_char", "text"]],
        on=["record_id", "segment_index"],
        how="left",
    )
    merged = merged.rename(columns={"code": "theme", "text": "quote"})
    merged["rank"] = merged["rank"].astype(np.int64)
    return merged[EVIDENCE.names].reset_index(drop=True)


def main_theme(codes: pd.DataFrame) -> pd.Series:
    """Each record's main theme (rank 1); records with no evidence for any theme are left out."""
    first = codes[codes["rank"] == 1]
    return first.drop_duplicates("record_id").set_index("record_id")["theme"]
