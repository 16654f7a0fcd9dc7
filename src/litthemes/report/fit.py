"""Does the codebook fit the corpus? Checks with numbers, for the console and the brief.

A codebook written for one literature, run on another, still finds its themes' words:
the tables fill up and nothing says they describe the wrong literature. Three checks,
each a majority rule:

- fewer than half the documents are within the codebook's literature (as close to its
  background texts as most of the codebook's own examples are: litthemes.topics.align);
- more than half the records have no theme (mentioned, by the coder's rules);
- more than half the topics are emergent (named by no theme);

and one of another kind: a theme mentioned in nearly every record (UBIQUITOUS_SHARE)
names what the corpus is about, not a theme within it (MOOC platforms, in a corpus of
MOOC studies, are digitalisation of learning in every record), so its share says
nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from litthemes.tables import CODES, RECORDS, TOPICS, read_table, write_json

UBIQUITOUS_SHARE = 0.9
# Below this many records a share of 90% is too coarse to call a theme ubiquitous.
UBIQUITOUS_MIN_RECORDS = 20


def percent(x: float) -> str:
    """A share as a whole percentage ("n/a" for a missing one), as the brief writes it."""
    return "n/a" if pd.isna(x) else f"{x * 100:.0f}%"


def fit_checks(
    included: int, codes: pd.DataFrame, topics: pd.DataFrame, topic_summary: dict[str, Any]
) -> dict[str, Any]:
    """The fit figures and the warnings they give (see the module docstring)."""
    themed = codes.groupby("record_id")["present"].any() if len(codes) else pd.Series(dtype=bool)
    without_theme = float(1 - themed.mean()) if len(themed) else float("nan")
    real = topics[topics["topic"] >= 0] if len(topics) else topics
    emergent = int(real["emergent"].sum()) if len(real) else 0
    in_domain = (topic_summary.get("domain") or {}).get("documents_in_domain")
    warnings = []
    if in_domain is not None and in_domain < 0.5:
        warnings.append(
            f"Only {percent(in_domain)} of the documents resemble the literature the codebook describes (its "
            "background texts, as closely as most of the codebook's own examples do): the codebook may not fit this "
            "corpus, and its themes' shares may describe another literature's words. Draft a codebook from "
            "the topics (`litthemes codebook draft`)."
        )
    if without_theme == without_theme and without_theme > 0.5:
        warnings.append(f"{percent(without_theme)} of the records carry no theme of the codebook.")
    if len(real) and emergent / len(real) > 0.5:
        warnings.append(f"{emergent} of {len(real)} topics are not named by the codebook (emergent).")
    ubiquitous = _ubiquitous_themes(codes)
    for theme, (mentioned, of) in ubiquitous.items():
        warnings.append(
            f"{mentioned} of {of} records ({percent(mentioned / of)}) mention {theme}: in this corpus it names what "
            "nearly every record is about, so its share says nothing. Add the words that name the corpus's subject "
            "to the codebook's background texts or to the theme's exclude terms."
        )
    return {
        "records": included,
        "documents_in_domain": in_domain,
        "records_without_theme": None if without_theme != without_theme else round(without_theme, 6),
        "topics": len(real),
        "emergent_topics": emergent,
        "ubiquitous_themes": {theme: round(mentioned / of, 6) for theme, (mentioned, of) in ubiquitous.items()},
        "fits": not warnings,
        "warnings": warnings,
    }


def _ubiquitous_themes(codes: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """Themes mentioned in at least UBIQUITOUS_SHARE of the records: (records mentioning it, records)."""
    if not len(codes) or "theme" not in codes.columns:
        return {}
    records = codes["record_id"].nunique()
    if records < UBIQUITOUS_MIN_RECORDS:
        return {}
    mentioned = codes[codes["present"]].groupby("theme", sort=True)["record_id"].nunique()
    return {str(theme): (int(n), records) for theme, n in mentioned.items() if n >= UBIQUITOUS_SHARE * records}


def run_fit_check(
    records_path: str, codes_path: str, topics_path: str, topic_summary_path: str, out: str
) -> dict[str, Any]:
    """Write the fit checks as JSON; returns them."""
    records = read_table(records_path, RECORDS)
    summary = json.loads(Path(topic_summary_path).read_text(encoding="utf-8"))
    checks = fit_checks(
        int((records["status"] == "included").sum()),
        read_table(codes_path, CODES),
        read_table(topics_path, TOPICS),
        summary,
    )
    write_json(checks, out)
    return checks
