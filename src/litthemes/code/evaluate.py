"""Scoring the coder on labelled passages: main theme by rank, and presence against the labels."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from litthemes.code.score import aggregate, code_segments
from litthemes.code.semantic import SegmentClassifier
from litthemes.codebook import Codebook
from litthemes.config import CodeSettings, EmbedSettings
from litthemes.embed import embed_texts
from litthemes.segment import segment

if TYPE_CHECKING:
    from litthemes.code.train import TrainingSet
    from litthemes.codebook import Agreement


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
    # Per passage: main theme right, within the top three, and its themes' true and false
    # positives and misses (the bootstrap below resamples passages, not themes).
    counts = np.zeros((len(items), 5), dtype=np.float64)
    for row, p in enumerate(items):
        own = codes[codes["record_id"] == p["id"]]
        ranked = own[own["rank"] > 0].sort_values("rank")["theme"].tolist()
        truth, predicted = {p["main"], *p["others"]}, set(own.loc[own["present"], "theme"])
        counts[row] = [
            bool(ranked) and ranked[0] == p["main"],
            p["main"] in ranked[:3],
            len(truth & predicted),
            len(predicted - truth),
            len(truth - predicted),
        ]
    n = len(items)
    top1, top3, tp, fp, fn = (float(total) for total in counts.sum(axis=0))
    precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    return {
        "passages": n,
        "top1_by_rank": round(top1 / n, 4),
        "top3_by_rank": round(top3 / n, 4),
        "present_precision": round(precision, 4),
        "present_recall": round(recall, 4),
        "present_f1": round(2 * precision * recall / max(precision + recall, 1e-9), 4),
        "themes_per_passage": {"predicted": round((tp + fp) / n, 3), "labelled": round((tp + fn) / n, 3)},
        "interval_95": passage_intervals(counts),
    }


def passage_intervals(counts: np.ndarray, resamples: int = 2000, seed: int = 7) -> dict[str, list[float]]:
    """95% percentile-bootstrap intervals of top-1, precision and recall, resampling
    passages (rows of main-right, top-3, true positives, false positives, misses); a
    fixed seed, so the same passages give the same interval."""
    from scipy.stats import bootstrap

    def statistic(hit: np.ndarray, tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, axis: int = -1) -> np.ndarray:
        found = tp.sum(axis)
        return np.stack(
            [hit.mean(axis), found / np.maximum(found + fp.sum(axis), 1), found / np.maximum(found + fn.sum(axis), 1)]
        )

    if len(counts) < 2:
        return {}
    result = bootstrap(
        (counts[:, 0], counts[:, 2], counts[:, 3], counts[:, 4]),
        statistic,
        paired=True,
        vectorized=True,
        n_resamples=resamples,
        method="percentile",
        random_state=np.random.default_rng(seed),
    )
    low, high = result.confidence_interval
    names = ("top1_by_rank", "present_precision", "present_recall")
    return {name: [round(float(lo), 4), round(float(hi), 4)] for name, lo, hi in zip(names, low, high, strict=True)}


# Fewer labelled passages than this say next to nothing about the coder.
MIN_MEASURED = 10


def read_labelled_passages(path: str | Path, book: Codebook) -> list[dict[str, Any]]:
    """Passages a person labelled with the codebook's themes: a YAML list of mappings with
    ``text``, ``main`` and ``others`` (as ``tests/code/literature_passages.yaml``), or a CSV /
    TSV table with those columns (``others`` separated by ';' or '|'). Themes are named by id
    or label. Errors name the file, the passage and the problem."""
    import yaml

    from litthemes.agree.readers import CodingError, read_table_file
    from litthemes.config import ConfigError, load_yaml

    path = Path(path)
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            rows = load_yaml(path.read_bytes())
        else:
            rows = read_table_file(path).to_dict("records")
    except CodingError as exc:  # names the file already
        raise ConfigError(f"labelled passages: {exc}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read labelled passages ({' '.join(str(exc).split())})") from None
    if not isinstance(rows, list) or not rows:
        raise ConfigError(f"{path}: expected a list of passages with text, main and others")
    themes = {c.id for c in book.themes}
    passages = []
    for n, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or not str(row.get("text") or "").strip():
            raise ConfigError(f"{path}: passage {n} has no text")
        if not str(row.get("main") or "").strip():
            raise ConfigError(f"{path}: passage {n} has no main theme")
        others = row.get("others") or []
        if isinstance(others, str):
            others = [o for o in re.split(r"\s*[;|]\s*", others) if o]
        names = [str(row["main"]), *map(str, others)]
        ids = [book.code_id(name) for name in names]
        unknown = [name for name, code_id in zip(names, ids, strict=True) if code_id not in themes]
        if unknown:
            raise ConfigError(f"{path}: passage {n} names themes that are not in the codebook: {unknown}")
        main, *rest = [str(code_id) for code_id in ids]
        passages.append(
            {
                "id": str(row.get("id") or f"p{n}"),
                "text": str(row["text"]),
                "main": main,
                "others": sorted(set(rest) - {main}),
            }
        )
    if len(passages) < MIN_MEASURED:
        raise ConfigError(
            f"{path}: {len(passages)} labelled passages; a measure needs at least {MIN_MEASURED} "
            "(50-100 give an interval of about +-0.1)"
        )
    return passages


def measure_agreement(
    items: list[dict[str, Any]], book: Codebook, embed: EmbedSettings, settings: CodeSettings, against: str
) -> tuple[dict[str, Any], Agreement]:
    """Score the coder on labelled passages (:func:`score_passages`) and state it as the
    codebook's :class:`~litthemes.codebook.Agreement`, with the coding settings used that
    differ from the defaults, so that the brief can tell whether a run matches them."""
    from litthemes.codebook import Agreement, changed_coding_settings

    scores = score_passages(items, book, embed, settings)
    agreement = Agreement(
        against=against,
        passages=scores["passages"],
        main_theme=scores["top1_by_rank"],
        main_theme_interval=tuple(scores["interval_95"]["top1_by_rank"]),
        precision=scores["present_precision"],
        recall=scores["present_recall"],
        coding_fingerprint=book.coding_fingerprint,
        embedding_model=embed.model,
        settings=changed_coding_settings(settings.model_dump(), CodeSettings().model_dump()),
    )
    return scores, agreement
