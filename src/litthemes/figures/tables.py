"""Tables stage: the trend tables as CSV, Markdown and LaTeX, each with a caption."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from litthemes.captions import TABLE_CAPTIONS
from litthemes.tables import write_text

__all__ = ["TABLE_CAPTIONS", "write_tables"]


def _fmt(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].map(lambda v: "" if pd.isna(v) else f"{v:.4g}")
    return out


def write_tables(tables: dict[str, pd.DataFrame], out_dir: str | Path, stamp: str) -> list[str]:
    """Write each captioned table as .csv, .md and .tex; returns the paths."""
    out = Path(out_dir)
    written = []
    for name, caption in TABLE_CAPTIONS.items():
        df = tables[name].reset_index(drop=True)
        full_caption = f"{caption} ({stamp}; n rows = {len(df)})"
        write_text(df.to_csv(index=False, float_format="%.6g", lineterminator="\n"), out / f"{name}.csv")
        shown = _fmt(df)
        markdown = (
            f"**{name}**: {full_caption}\n\n" + (shown.to_markdown(index=False) if len(df) else "_(no rows)_") + "\n"
        )
        write_text(markdown, out / f"{name}.md")
        latex = (
            shown.to_latex(index=False, caption=full_caption, label=f"tab:{name}", longtable=len(df) > 30, escape=True)
            if len(df)
            else f"% {name}: no rows\n"
        )
        write_text(latex, out / f"{name}.tex")
        written += [str(out / f"{name}.{ext}") for ext in ("csv", "md", "tex")]
    return written
