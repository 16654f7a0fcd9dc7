"""Agreement between two codings (human vs machine, or human vs human).

A coding is a long table of (unit, code) pairs: a unit is whatever was coded (a
record, a sentence, a text selection). Readers accept CSV/TSV/Parquet tables,
REFI-QDA projects (.qdpx) and folders of ``{{code}}``-annotated text files (the
qabstracts format). Per code: Cohen's kappa, precision, recall and F1 of B against
A as reference; overall: Krippendorff's alpha (nominal) over every unit x code
decision, and the mean kappa.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import krippendorff
import numpy as np
import pandas as pd

UNIT_COLUMNS = ("unit", "unit_id", "segment", "record_id", "id")
CODE_COLUMNS = ("code", "theme", "label")
_ANNOTATION = re.compile(r"^\{\{(.*)\}\}\s*$")


class CodingError(ValueError):
    """A coding file cannot be read; the message names the file and the reason."""


def _normalise_text(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def read_annotated_folder(folder: str | Path) -> pd.DataFrame:
    """Folder of text files where each sentence is followed by a ``{{code,code:suffix}}`` line.

    Suffixes after ':' (subjective ratings in qabstracts) are dropped. A unit is the
    file plus the sentence text, so two coders' files align even when one joined
    sentences the other kept apart (those units then count as unmatched).
    """
    rows = []
    files = sorted(Path(folder).glob("*.txt"))
    if not files:
        raise CodingError(f"{folder}: no .txt files with {{{{code}}}} annotations")
    for path in files:
        buffer: list[str] = []
        seen: dict[str, int] = {}
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            match = _ANNOTATION.match(line.strip())
            if not match:
                if line.strip() and line.strip() != "---":
                    buffer.append(line.strip())
                continue
            sentence = _normalise_text(" ".join(buffer))
            buffer = []
            if not sentence:
                continue
            n = seen.get(sentence, 0)
            seen[sentence] = n + 1
            unit = f"{path.stem}:{sentence[:120]}" + (f"#{n}" if n else "")
            codes = [c.split(":")[0].strip() for c in match.group(1).split(",")]
            for code in codes:
                if code:
                    rows.append({"unit": unit, "code": code})
            if not any(codes):
                rows.append({"unit": unit, "code": ""})
    return pd.DataFrame(rows, columns=["unit", "code"])


def read_table_coding(path: str | Path) -> pd.DataFrame:
    """CSV/TSV/Parquet with a unit column and a code column (and optionally ``present``)."""
    path = Path(path)
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
    else:
        sep = "\t" if path.suffix in (".tsv", ".tab") else ","
        frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    unit = next((c for c in UNIT_COLUMNS if c in frame.columns), None)
    code = next((c for c in CODE_COLUMNS if c in frame.columns), None)
    if unit is None or code is None:
        raise CodingError(f"{path}: needs a unit column ({', '.join(UNIT_COLUMNS)}) and a code column "
                          f"({', '.join(CODE_COLUMNS)}); found {list(frame.columns)}")
    if "present" in frame.columns:
        present = frame["present"].astype(str).str.lower().isin(["true", "1", "yes"])
        units = frame[unit].astype(str).unique()
        frame = frame[present]
        out = pd.DataFrame({"unit": frame[unit].astype(str), "code": frame[code].astype(str)})
        # Units with no present code still count as coded (with nothing).
        empty = sorted(set(units) - set(out["unit"]))
        return pd.concat([out, pd.DataFrame({"unit": empty, "code": ""})], ignore_index=True)
    return pd.DataFrame({"unit": frame[unit].astype(str), "code": frame[code].astype(str)})


def read_coding(path: str | Path) -> pd.DataFrame:
    """Read a coding from any supported format (see module doc)."""
    path = Path(path)
    if not path.exists():
        raise CodingError(f"{path}: no such file or folder")
    if path.is_dir():
        return read_annotated_folder(path)
    if path.suffix.lower() == ".qdpx":
        from litthemes.agree.refi import read_qdpx

        return read_qdpx(path)
    return read_table_coding(path)


def agreement(a: pd.DataFrame, b: pd.DataFrame, codes: list[str] | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per-code and overall agreement of coding ``b`` with reference coding ``a`` on shared units."""
    # Imported here: scikit-learn's import costs 1-2 s, and the QDA export (a module of
    # this package, run after every coding) needs nothing from it.
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
        rows.append({"code": code, "units": len(units), "a": int(ya.sum()), "b": int(yb.sum()), "both": both,
                     "kappa": kappa, "alpha": alpha, "precision": float(precision), "recall": float(recall),
                     "f1": float(f1)})
    table = pd.DataFrame(rows)
    summary = {
        "units": len(units), "units_only_in_a": only_a, "units_only_in_b": only_b, "codes": len(codes),
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
                ax.text(j, i, str(value), ha="center", va="center", fontsize=6,
                        color="white" if value < table.to_numpy().max() / 3 else "black")
    ax.set_xlabel("Coder B")
    ax.set_ylabel("Coder A (reference)")
    ax.set_title(title)
    plt.colorbar(image, ax=ax, label="log(1 + units)", shrink=0.8)
    fig.savefig(out, dpi=150, bbox_inches="tight", metadata={"Software": "litthemes"})
    plt.close(fig)
