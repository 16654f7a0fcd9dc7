"""Agreement between two codings (human vs machine, or human vs human).

A coding is a long table of (unit, code) pairs: a unit is whatever was coded (a
record, a sentence, a text selection). The readers (:mod:`litthemes.agree.readers`)
accept CSV/TSV/Parquet tables, REFI-QDA projects (.qdpx) and folders of
``{{code}}``-annotated text files (the qabstracts format). Per code: Cohen's kappa,
precision, recall and F1 of B against A as reference; overall: Krippendorff's alpha (nominal) over every unit x code
decision, and the mean kappa.
"""

from __future__ import annotations

from litthemes.agree.stats import (
    CodingError,
    agreement,
    confusion,
    plot_confusion,
    read_coding,
    read_units,
)

__all__ = ["CodingError", "agreement", "confusion", "plot_confusion", "read_coding", "read_units"]
