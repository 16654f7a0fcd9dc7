"""Agreement statistics between two codings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import krippendorff
import numpy as np
import pandas as pd

from litthemes.agree.readers import CodingError, read_coding, read_units

# Readers live in litthemes.agree.readers; these names are the package's interface.
__all__ = ["CodingError", "agreement", "confusion", "plot_confusion", "read_coding", "read_units"]


def agreement(a: pd.DataFrame, b: pd.DataFrame, codes: list[str] | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per-code and overall agreement of coding ``b`` with reference coding ``a`` on shared units."""
    # Imported here: the QDA export (a module of this package, run after every coding)
    # needs nothing from scikit-learn, whose import is slow.
    from sklearn.metrics import cohen_kappa_score, precision_recall_fscore_support

    units = sorted(set(a["unit"]) & set(b["unit"]))
    only_a = len(set(a["unit"]) - set(b["unit"]))
    only_b = len(set(b["unit"]) - set(a["unit"]))
    if not units:
        raise CodingError("the two codings share no units; check that they code the same texts")
    codes = codes or sorted((set(a["code"]) | set(b["code"])) - {""})
    matrix_a = _matrix(a, units, codes)
    matrix_b = _matrix(b, units, codes)
    rows = []
    for j, code in enumerate(codes):
        ya, yb = matrix_a[:, j], matrix_b[:, j]
        both = int((ya & yb).sum())
        if ya.any() or yb.any():
            kappa = float(cohen_kappa_score(ya, yb)) if (ya != yb).any() or len(set(ya)) > 1 else 1.0
        else:
            kappa = float("nan")
        precision, recall, f1, _ = precision_recall_fscore_support(ya, yb, average="binary", zero_division=0)
        alpha = _alpha(ya, yb)
        rows.append(
            {
                "code": code,
                "units": len(units),
                "a": int(ya.sum()),
                "b": int(yb.sum()),
                "both": both,
                "kappa": kappa,
                "alpha": alpha,
                "precision": float(precision),
                "recall": float(recall),
                "f1": float(f1),
            }
        )
    table = pd.DataFrame(rows)
    summary = {
        "units": len(units),
        "units_only_in_a": only_a,
        "units_only_in_b": only_b,
        "codes": len(codes),
        "krippendorff_alpha": _alpha(matrix_a.ravel(), matrix_b.ravel()),
        "mean_kappa": float(np.nanmean(table["kappa"])) if len(table) else float("nan"),
        "exact_unit_agreement": float((matrix_a == matrix_b).all(axis=1).mean()),
    }
    return table, summary


def _matrix(coding: pd.DataFrame, units: list[str], codes: list[str]) -> np.ndarray:
    index = {u: i for i, u in enumerate(units)}
    cols = {c: j for j, c in enumerate(codes)}
    matrix = np.zeros((len(units), len(codes)), dtype=bool)
    for unit, code in zip(coding["unit"], coding["code"], strict=True):
        if unit in index and code in cols:
            matrix[index[unit], cols[code]] = True
    return matrix


def _alpha(a: np.ndarray, b: np.ndarray) -> float:
    data = np.vstack([a.astype(float), b.astype(float)])
    if len(np.unique(data)) < 2:
        return float("nan")  # no variation: alpha is undefined
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


def confusion(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Code x code counts over shared units: A's codes (rows) against B's codes (columns);
    a unit with no code on one side counts under '(none)'."""
    units = sorted(set(a["unit"]) & set(b["unit"]))
    ga = a.groupby("unit")["code"].apply(lambda s: sorted(set(s) - {""}) or ["(none)"])
    gb = b.groupby("unit")["code"].apply(lambda s: sorted(set(s) - {""}) or ["(none)"])
    counts: dict[tuple[str, str], int] = {}
    for unit in units:
        for ca in ga[unit]:
            for cb in gb[unit]:
                counts[(ca, cb)] = counts.get((ca, cb), 0) + 1
    labels = sorted({k[0] for k in counts} | {k[1] for k in counts})
    table = pd.DataFrame(0, index=labels, columns=labels)
    for (ca, cb), n in counts.items():
        table.loc[ca, cb] = n
    table.index.name = "A \\ B"
    return table


def plot_confusion(table: pd.DataFrame, out: str | Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    size = max(5.0, 0.45 * len(table) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(np.log1p(table.to_numpy()), cmap="viridis")
    ax.set_xticks(range(len(table.columns)), table.columns, rotation=50, ha="right", fontsize=7)
    ax.set_yticks(range(len(table.index)), table.index, fontsize=7)
    for i in range(len(table.index)):
        for j in range(len(table.columns)):
            value = int(table.iat[i, j])
            if value:
                ax.text(
                    j,
                    i,
                    str(value),
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if value < table.to_numpy().max() / 3 else "black",
                )
    ax.set_xlabel("Coder B")
    ax.set_ylabel("Coder A (reference)")
    ax.set_title(title)
    plt.colorbar(image, ax=ax, label="log(1 + units)", shrink=0.8)
    fig.savefig(out, dpi=150, bbox_inches="tight", metadata={"Software": "litthemes"})
    plt.close(fig)
