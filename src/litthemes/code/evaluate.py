"""Scoring the coder on labelled passages: main theme by rank, and presence against the labels."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from litthemes.code.score import aggregate, code_segments
from litthemes.code.semantic import SegmentClassifier
from litthemes.codebook import Codebook
from litthemes.config import CodeSettings, EmbedSettings
from litthemes.embed import embed_texts
from litthemes.segment import segment

if TYPE_CHECKING:
    from litthemes.code.train import TrainingSet


def passages_as_training(items: list[dict[str, Any]], source: str = "labelled passages") -> TrainingSet:
    """Labelled passages as human codes (``code.training``): each passage a unit and a
    document of its own, its main and other themes its codes."""
    from litthemes.code.train import TrainingSet, units_digest

    units = pd.DataFrame(
        {
            "unit": [p["id"] for p in items],
            "document": [p["id"] for p in items],
            "position": 0,
            "text": [p["text"] for p in items],
            "codes": [sorted({p["main"], *p["others"]}) for p in items],
        }
    )
    return TrainingSet(units, source, units_digest(units))


def score_passages(
    items: list[dict[str, Any]],
    book: Codebook,
    embed: EmbedSettings,
    settings: CodeSettings | None = None,
    classifier: SegmentClassifier | None = None,
) -> dict[str, Any]:
    """Main theme (rank 1) and presence against the passages' labels; ``classifier`` the
    semantic model (the codebook's prototypes by default, a trained one for instance)."""
    records = pd.DataFrame(
        [
            {"record_id": p["id"], "title": "", "abstract": p["text"], "fulltext": "", "status": "included"}
            for p in items
        ]
    )
    segments = segment(records)
    settings = settings or CodeSettings(cache_dir="")
    coded = code_segments(
        segments,
        embed_texts(segments["text"].tolist(), embed),
        book,
        settings,
        embed_settings=embed,
        classifier=classifier,
    )
    codes = aggregate(
        coded,
        records["record_id"].tolist(),
        book,
        main_min_evidence=settings.main_min_evidence,
        first_segment_weight=settings.first_segment_weight,
    )
    top1 = top3 = tp = fp = fn = 0
    for p in items:
        own = codes[codes["record_id"] == p["id"]]
        ranked = own[own["rank"] > 0].sort_values("rank")["theme"].tolist()
        top1 += bool(ranked) and ranked[0] == p["main"]
        top3 += p["main"] in ranked[:3]
        truth, predicted = {p["main"], *p["others"]}, set(own.loc[own["present"], "theme"])
        tp, fp, fn = tp + len(truth & predicted), fp + len(predicted - truth), fn + len(truth - predicted)
    n = len(items)
    precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    return {
        "passages": n,
        "top1_by_rank": round(top1 / n, 4),
        "top3_by_rank": round(top3 / n, 4),
        "present_precision": round(precision, 4),
        "present_recall": round(recall, 4),
        "present_f1": round(2 * precision * recall / max(precision + recall, 1e-9), 4),
        "themes_per_passage": {"predicted": round((tp + fp) / n, 3), "labelled": round((tp + fn) / n, 3)},
    }
