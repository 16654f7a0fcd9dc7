"""Tables stage: the trend tables as CSV, Markdown and LaTeX, each with a caption."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from litthemes.tables import write_text

# name -> caption; the order is the order in the brief.
TABLE_CAPTIONS = {
    "corpus_flow": "Records per source file: read, quarantined, merged as duplicates, excluded by a rule, included.",
    "field_availability": "Text available for coding.",
    "prevalence": "Share of records coded with each theme and group, with 95% Wilson intervals.",
    "trend_tests": "Trend of each theme over years: odds ratio per year from logistic regression, 95% CI, p and BH q value.",
    "covid_split": "Share of records per theme before and from the COVID-19 split year; difference with 95% Newcombe interval.",
    "challenge_cooccurrence": "Pairs of challenge themes: records with both, Jaccard, lift, one-sided Fisher exact p and BH q.",
    "theme_by_stakeholder": "Records carrying each theme and stakeholder.",
    "theme_by_credential_type": "Records carrying each theme and credential type.",
    "theme_by_setting": "Records carrying each theme and setting.",
    "thematic_map_themes": "Callon centrality and density of themes, and their quadrant.",
    "topics": "Inductive topics: size, top terms, best-matching theme, alignment, emergent flag and stability.",
    "emergent_topics": "Topics that match no codebook theme.",
    "claims": "Claims ledger: quantitative statements with their sentence and source.",
}


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
        markdown = f"**{name}**: {full_caption}\n\n" + (shown.to_markdown(index=False) if len(df) else "_(no rows)_") + "\n"
        write_text(markdown, out / f"{name}.md")
        latex = shown.to_latex(index=False, caption=full_caption, label=f"tab:{name}", longtable=len(df) > 30,
                               escape=True) if len(df) else f"% {name}: no rows\n"
        write_text(latex, out / f"{name}.tex")
        written += [str(out / f"{name}.{ext}") for ext in ("csv", "md", "tex")]
    return written
