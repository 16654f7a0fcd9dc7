"""The passages to code by hand next: where the coder is least sure (uncertainty sampling).

A segment's coding is uncertain where some theme is close to a decision boundary. A theme
is coded through its cues when its score reaches ``code.present_threshold`` and its share
of the segment's evidence reaches ``code.min_share``; the distance to that boundary is the
smaller of the two margins (signed), so a theme far below the threshold is certain
whatever its share (a segment with little evidence for many themes gives each a small
share, which says nothing about any of them). Where the coding disagrees with that rule
(a theme coded by meaning alone, or by a record's sequence of codes), the score's own
distance to the threshold counts. The N most uncertain segments (at most ``per_record`` from one
record, so that one long text does not fill the list) are written as a CSV that is
also a training file once its ``code`` column is filled (several codes separated by
';'), and as a REFI-QDA project with one source per passage, to code in NVivo,
ATLAS.ti, MAXQDA or QualCoder and export back as .qdpx.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from lxml import etree

from litthemes.agree.readers import normalise_text
from litthemes.agree.refi import PROJECT_NS, _codes_element, guid, write_archive
from litthemes.codebook import THEME, Codebook

SUGGESTION_COLUMNS = ["unit", "document", "position", "text", "machine_codes", "uncertain_codes", "uncertainty", "code"]


def uncertain_passages(
    segments: pd.DataFrame,
    segment_codes: pd.DataFrame,
    n: int,
    present_threshold: float = 0.5,
    min_share: float = 0.2,
    exclude_texts: set[str] | None = None,
    per_record: int = 2,
) -> pd.DataFrame:
    """The ``n`` most uncertain segments as SUGGESTION_COLUMNS (see module doc)."""
    rows = segment_codes[segment_codes["dimension"] == THEME].copy()
    if rows.empty or n <= 0:
        return pd.DataFrame(columns=SUGGESTION_COLUMNS)
    score_margin = rows["score"] - present_threshold
    signed = np.minimum(score_margin, rows["share"] - min_share)
    margin = np.where((signed >= 0) == rows["present"], signed.abs(), score_margin.abs())
    rows["uncertainty"] = np.round(1.0 - 2.0 * np.clip(margin, 0.0, 0.5), 6)
    by_segment = rows.groupby(["record_id", "segment_index"], sort=True)
    uncertainty = by_segment["uncertainty"].max().rename("uncertainty")
    machine = rows[rows["present"]].groupby(["record_id", "segment_index"])["code"].agg(lambda c: "; ".join(sorted(c)))
    close = (
        rows[rows["uncertainty"] >= 0.5]
        .groupby(["record_id", "segment_index"])["code"]
        .agg(lambda c: "; ".join(sorted(c)))
    )
    table = pd.concat([uncertainty, machine.rename("machine_codes"), close.rename("uncertain_codes")], axis=1)
    table = table.reset_index().merge(
        segments[["record_id", "segment_index", "text"]], on=["record_id", "segment_index"], how="inner"
    )
    # Compared as words only: a passage coded already, or the same sentence in a second
    # version of a paper ("verified-certificate" / "verified certificate"), is not asked twice.
    table = table.assign(wording=table["text"].map(normalise_text))
    if exclude_texts:
        table = table[~table["wording"].isin({normalise_text(text) for text in exclude_texts})]
    table = table.sort_values(
        ["uncertainty", "record_id", "segment_index"], ascending=[False, True, True], kind="stable"
    ).drop_duplicates("wording")
    table = table.groupby("record_id", sort=False).head(per_record).head(n)
    return pd.DataFrame(
        {
            "unit": [f"{r}#{int(i)}" for r, i in zip(table["record_id"], table["segment_index"], strict=True)],
            "document": table["record_id"].to_numpy(),
            "position": table["segment_index"].astype(np.int64).to_numpy(),
            "text": table["text"].to_numpy(),
            "machine_codes": table["machine_codes"].fillna("").to_numpy(),
            "uncertain_codes": table["uncertain_codes"].fillna("").to_numpy(),
            "uncertainty": table["uncertainty"].to_numpy(),
            "code": "",
        },
        columns=SUGGESTION_COLUMNS,
    ).reset_index(drop=True)


def write_suggestion_project(
    book: Codebook, passages: pd.DataFrame, out: str | Path, name: str = "litthemes: passages to code"
) -> None:
    """A .qdpx with the codebook and one uncoded text source per passage."""
    user = guid("user", "litthemes")
    root = etree.Element(
        f"{{{PROJECT_NS}}}Project", nsmap={None: PROJECT_NS}, name=name, origin="litthemes", creatingUserGUID=user
    )
    users = etree.SubElement(root, f"{{{PROJECT_NS}}}Users")
    etree.SubElement(users, f"{{{PROJECT_NS}}}User", guid=user, name="litthemes (suggestions)")
    etree.SubElement(root, f"{{{PROJECT_NS}}}CodeBook").append(_codes_element(PROJECT_NS, book))
    sources = etree.SubElement(root, f"{{{PROJECT_NS}}}Sources")
    texts: dict[str, str] = {}
    for row in passages.itertuples(index=False):
        source_guid = guid("suggestion", str(row.unit))
        path = f"{source_guid}.txt"
        texts[path] = str(row.text)
        source = etree.SubElement(
            sources,
            f"{{{PROJECT_NS}}}TextSource",
            guid=source_guid,
            name=str(row.unit),
            plainTextPath=f"internal://{path}",
            creatingUser=user,
        )
        if row.machine_codes:
            etree.SubElement(source, f"{{{PROJECT_NS}}}Description").text = f"machine codes: {row.machine_codes}"
    write_archive(etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True), texts, out)
