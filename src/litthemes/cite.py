"""How the brief and the claims ledger cite a record."""

from __future__ import annotations

import pandas as pd


def citation(record: pd.Series) -> str:
    """First author, "& second" or "et al.", (year) and title, from a row of the record table."""
    authors = str(record.get("authors") or "").split("; ")
    first = authors[0].split(",")[0].strip() if authors and authors[0] else "Anon."
    etal = " et al." if len(authors) > 2 else (f" & {authors[1].split(',')[0].strip()}" if len(authors) == 2 else "")
    year = record.get("year")
    year_text = str(int(year)) if year is not None and not pd.isna(year) else "n.d."
    return f"{first}{etal} ({year_text}). {record.get('title') or ''}"
