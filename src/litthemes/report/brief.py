"""The policy brief: HTML rendered from the numbers, and the PDF made from it."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import platform
import re
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from litthemes.captions import CROSS_DIMENSIONS, FIGURE_CAPTIONS
from litthemes.cite import citation
from litthemes.codebook import THEME, Codebook, agreement_reasons, load_codebook
from litthemes.report.fit import percent
from litthemes.report.fonts import FONT_PACKAGES, uncovered
from litthemes.tables import (
    CODES,
    EVIDENCE,
    RECORDS,
    TOPICS,
    read_table,
    read_trend_tables,
    write_text,
)
from litthemes.topics.align import outside_codebook

_DOI = re.compile(r"^10\.\d{4,9}/[^\s\"<>]+$")
SOFTWARE = (
    "litthemes",
    "snakemake",
    "spacy",
    "sentence-transformers",
    "bertopic",
    "umap-learn",
    "hdbscan",
    "scikit-learn",
    "statsmodels",
    "scipy",
    "pandas",
    "pyarrow",
    "matplotlib",
    "jinja2",
    "torch",
)

log = logging.getLogger(__name__)


def doi_link(doi: Any) -> str:
    """https://doi.org/... for a well-formed DOI, else '' (never a javascript: or other link)."""
    text = str(doi or "").strip()
    return "https://doi.org/" + quote(text, safe="/:;()._-") if _DOI.match(text) else ""


def safe_url(url: Any) -> str:
    text = str(url or "").strip()
    return text if re.match(r"^https?://[^\s\"<>]+$", text, re.I) else ""


_MIME = {".png": "image/png", ".svg": "image/svg+xml"}


def _image(path: Path) -> str:
    return f"data:{_MIME[path.suffix]};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _figures(figures_dir: str | Path, shown: set[str]) -> dict[str, str]:
    """Data URIs of the PNGs of the figures ``shown`` (the HTML brief)."""
    return {p.stem: _image(p) for p in sorted(Path(figures_dir).glob("*.png")) if p.stem in shown}


def shown_figures(book: Codebook) -> set[str]:
    """The figures that say something about ``book``'s codes. The workflow draws every
    figure; those that read a dimension or a group the codebook lacks (a study's own
    codebook often has themes only) would stand empty in its brief and are left out."""
    dimensions = {code.dimension for code in book.codes}
    groups = {code.group for code in book.themes}
    needs = {
        **{name: dimension in dimensions for name, dimension in CROSS_DIMENSIONS.items()},
        "terminology_shift": "credential_type" in dimensions,
        "opportunity_risk": {"trends", "challenges"} <= groups,
        "challenge_cooccurrence": "challenges" in groups,
        "challenge_network": "challenges" in groups,
    }
    return {name for name in FIGURE_CAPTIONS if needs.get(name, True)}


def cross_heading(book: Codebook) -> str:
    """The heading of the brief's section on the themes across the codebook's other
    dimensions ("Themes by credential type, stakeholder and setting")."""
    labels = [
        label if label[1:2].isupper() else label[:1].lower() + label[1:]
        for dimension, label in book.dimensions.items()
        if dimension != THEME and any(code.dimension == dimension for code in book.codes)
    ]
    if not labels:
        return "The themes together"
    listed = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
    return f"Themes by {listed}"


_BLANK = "litthemes-blank-"


def _blank_marker(name: str) -> str:
    """How the blank stand-in of figure ``name`` reads inside the brief's HTML."""
    return quote(f'id="{_BLANK}{name}"', safe="")


def _pdf_figures(figures_dir: str | Path, shown: set[str] | None = None) -> tuple[dict[str, str], dict[str, Path]]:
    """The figures for the PDF brief (those ``shown``, else all), and the ones to place onto
    its pages afterwards.

    A figure with a PDF (matplotlib's own vector drawing) is laid out as a blank SVG of
    its size and placed by :func:`_place_figures`; WeasyPrint drawing the figures' SVGs
    was half of the PDF's time. Figures without a PDF are drawn from their SVG, else PNG.
    """
    import pikepdf

    images: dict[str, str] = {}
    placed: dict[str, Path] = {}
    for png in sorted(Path(figures_dir).glob("*.png")):
        if shown is not None and png.stem not in shown:
            continue
        pdf, svg = png.with_suffix(".pdf"), png.with_suffix(".svg")
        if pdf.exists():
            with pikepdf.open(pdf) as figure:
                x0, y0, x1, y1 = (float(v) for v in figure.pages[0].mediabox)
            # Named, and not base64-encoded, so that _write_pdf can tell which blanks the brief shows.
            blank = (
                f'<svg xmlns="http://www.w3.org/2000/svg" id="{_BLANK}{png.stem}" '
                f'width="{x1 - x0:.3f}pt" height="{y1 - y0:.3f}pt"/>'
            )
            images[png.stem] = "data:image/svg+xml," + quote(blank, safe="")
            placed[png.stem] = pdf
        else:
            images[png.stem] = _image(svg if svg.exists() else png)
    return images, placed


def software_versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in SOFTWARE:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def findings(t: dict[str, pd.DataFrame], book: Codebook, topics: pd.DataFrame, limit: int) -> list[dict[str, Any]]:
    """Key findings as sentences built from the tables, each pointing at its figure."""
    label = {c.id: c.label for c in book.codes}
    out: list[dict[str, Any]] = []
    prev = t["prevalence"][~t["prevalence"]["theme"].str.startswith("group:")].sort_values(
        ["share", "theme"], ascending=[False, True]
    )
    if len(prev) and prev["coded"].sum() > 0:
        top = prev.head(3)
        parts = [
            f"{label[r.theme]} (mentioned in {percent(r.share)}, 95% CI {percent(r.ci_low)}–{percent(r.ci_high)}; "
            f"the main theme of {percent(r.main_share)})"
            for r in top.itertuples()
        ]
        out.append(
            {
                "text": f"The most discussed themes are {', '.join(parts)} of {int(top['records'].iloc[0])} records.",
                "figure": "theme_prevalence",
                "theme": str(top["theme"].iloc[0]),
            }
        )
    groups = t["prevalence"][t["prevalence"]["theme"].str.startswith("group:")].sort_values("share", ascending=False)
    # With one group there is nothing to compare.
    if len(groups) > 1 and groups["coded"].sum() > 0:
        g = groups.iloc[0]
        out.append(
            {
                "text": f"Of the {len(groups)} groups of themes, {g.label.lower()} are raised most often: "
                f"in {percent(g.share)} of records.",
                "figure": "theme_prevalence",
                "theme": "",
            }
        )
    tests = t["trend_tests"]
    moving = tests[tests["direction"].isin(["rising", "falling"])].sort_values("q_value")
    if len(moving):
        parts = [
            f"{label[r.theme]} is {r.direction} (odds ×{r.odds_ratio_per_year:.2f} per year, 95% CI "
            f"{r.ci_low:.2f}–{r.ci_high:.2f}, q = {r.q_value:.3g})"
            for r in moving.head(3).itertuples()
        ]
        out.append({"text": "; ".join(parts) + ".", "figure": "theme_trends", "theme": str(moving["theme"].iloc[0])})
    elif t["prevalence_by_year"].empty:
        out.append(
            {
                "text": "No record carries a publication year, so no trend over the years can be measured.",
                "figure": "theme_trends",
                "theme": "",
            }
        )
    else:
        tested = int(tests["q_value"].notna().sum())
        out.append(
            {
                "text": f"No theme shows a trend over the years that survives correction for multiple testing "
                f"({tested} themes tested).",
                "figure": "theme_trends",
                "theme": "",
            }
        )
    covid = t["covid_split"].dropna(subset=["difference"])
    if len(covid):
        r = covid.sort_values("difference", ascending=False).iloc[0]
        out.append(
            {
                "text": f"From the split year on, {label[r.theme]} changed most: {percent(r.share_before)} of records "
                f"before vs {percent(r.share_after)} after ({r.difference * 100:+.0f} points, 95% CI "
                f"{r.ci_low * 100:+.0f} to {r.ci_high * 100:+.0f}).",
                "figure": "covid_change",
                "theme": r.theme,
            }
        )
    co = t["challenge_cooccurrence"]
    co = co[co["n_both"] > 0].sort_values(["significant", "lift", "n_both"], ascending=[False, False, False])
    if len(co):
        r = co.iloc[0]
        sig = "significantly more often than chance" if r.significant else "though not significantly more than chance"
        out.append(
            {
                "text": f"The challenges {label[r.theme_a]} and {label[r.theme_b]} appear together in {int(r.n_both)} "
                f"records (lift {r.lift:.1f}), {sig}.",
                "figure": "challenge_cooccurrence",
                "theme": r.theme_a,
            }
        )
    term = t["terminology"]
    if len(term):
        years = sorted(term["year"].unique())
        early, late = years[: max(1, len(years) // 3)], years[-max(1, len(years) // 3) :]

        def dominant(ys: list[int]) -> tuple[str, float]:
            sub = term[term["year"].isin(ys)].groupby("credential_type")[["coded", "records"]].sum()
            sub = sub.assign(share=sub["coded"] / sub["records"].clip(lower=1)).sort_values("share", ascending=False)
            return str(sub.index[0]), float(sub["share"].iloc[0])

        (a, sa), (b, sb) = dominant(early), dominant(late)
        out.append(
            {
                "text": f"In {early[0]}–{early[-1]} the dominant term was {label[a]} ({percent(sa)} of records); in "
                f"{late[0]}–{late[-1]} it is {label[b]} ({percent(sb)}).",
                "figure": "terminology_shift",
                "theme": "",
            }
        )
    emergent = topics[topics["emergent"]] if len(topics) else topics
    if len(topics):
        if len(emergent):
            named = [(r, bool(getattr(r, "outside_codebook", False))) for r in emergent.head(3).itertuples()]
            names = "; ".join(
                f"“{', '.join(str(r.top_terms).split('; ')[:4])}” ({int(r.size)} records"
                + (", outside the codebook's literature)" if outside else ")")
                for r, outside in named
            )
            n = len(emergent)
            subject = f"{n} inductive topics are" if n != 1 else "1 inductive topic is"
            text = f"{subject} not named by the codebook: {names}."
            if any(outside for _, outside in named):
                text += (
                    " A topic outside the codebook's literature resembles a theme, but most of its records are unlike "
                    "the codebook's background texts."
                )
            out.append({"text": text, "figure": "topics", "theme": ""})
        else:
            out.append(
                {
                    "text": f"All {int((topics['topic'] >= 0).sum())} inductive topics align with a codebook theme.",
                    "figure": "topics",
                    "theme": "",
                }
            )
    return out[:limit]


def quotes_for(theme: str, evidence: pd.DataFrame, records: pd.DataFrame, k: int) -> list[dict[str, str]]:
    """The strongest evidence quotes for a theme, each with its citation and DOI link."""
    sub = (
        evidence[(evidence["theme"] == theme) & (evidence["rank"] == 1)]
        .sort_values(["score", "record_id"], ascending=[False, True])
        .head(k)
    )
    meta = records.set_index("record_id")
    return [
        {
            "quote": r.quote,
            "citation": citation(meta.loc[r.record_id]),
            "doi": doi_link(meta.loc[r.record_id, "doi"]),
            "url": safe_url(meta.loc[r.record_id, "url"]),
            "field": r.field,
            "offsets": f"{r.start_char}–{r.end_char}",
            "cue": r.cue,
            "record_id": r.record_id,
        }
        for r in sub.itertuples()
    ]


def codebook_agreement(book: Codebook, settings: dict[str, Any]) -> dict[str, Any] | None:
    """The codebook's measured agreement with a person's coding for the brief, and whether it
    holds for this run (:func:`litthemes.codebook.agreement_reasons`); None where there is
    nothing to quote."""
    reasons = agreement_reasons(book, settings)
    if reasons is None or book.agreement is None:
        return None
    measured = book.agreement
    return {
        "measured": measured,
        "holds": not reasons,
        "reasons": reasons,
        "main_theme": percent(measured.main_theme),
        "interval": "–".join(percent(x) for x in measured.main_theme_interval),
    }


def run(
    records_path: str,
    flow_path: str,
    codes_path: str,
    evidence_path: str,
    trends_dir: str,
    topics_path: str,
    topic_summary_path: str,
    figures_dir: str,
    codebook_path: str,
    out: str | None,
    settings: dict[str, Any],
    report_settings: dict[str, Any] | None = None,
    pdf_out: str | None = None,
    training_report: str | None = None,
    fit_check: str | None = None,
) -> str:
    """Write the brief as self-contained HTML to ``out``, and with ``pdf_out`` as an A4 PDF
    (either may be None; the workflow writes them in two jobs, side by side).

    The PDF is the same brief with vector figures: each figure's PDF where the figures
    directory has one (see :func:`_pdf_figures`), else its SVG, else its PNG.
    """
    if not out and not pdf_out:
        raise ValueError("nothing to write: give the HTML path, the PDF path or both")
    from litthemes.config import ReportSettings, TopicSettings

    params = ReportSettings.model_validate(report_settings or {})
    book = load_codebook(codebook_path)
    records = read_table(records_path, RECORDS)
    included = records[records["status"] == "included"]
    flow = json.loads(Path(flow_path).read_text(encoding="utf-8"))
    codes = read_table(codes_path, CODES)
    evidence = read_table(evidence_path, EVIDENCE)
    t = read_trend_tables(trends_dir)
    topics = read_table(topics_path, TOPICS)
    threshold = TopicSettings.model_validate(settings.get("topics") or {}).emergent_threshold
    topics = topics.assign(outside_codebook=outside_codebook(topics, threshold))
    topic_summary = json.loads(Path(topic_summary_path).read_text(encoding="utf-8"))
    training = json.loads(Path(training_report).read_text(encoding="utf-8")) if training_report else None
    fit = json.loads(Path(fit_check).read_text(encoding="utf-8")) if fit_check else None
    label = {c.id: c.label for c in book.codes}
    prevalence = t["prevalence"].set_index("theme")
    direction = t["trend_tests"].set_index("theme")
    sections = []
    for group, group_label in book.groups.items():
        themes = []
        for code in book.themes:
            if code.group != group:
                continue
            p = prevalence.loc[code.id]
            d = direction.loc[code.id]
            themes.append(
                {
                    "id": code.id,
                    "label": code.label,
                    "definition": code.definition,
                    "share": percent(p["share"]),
                    "ci": f"{percent(p['ci_low'])}–{percent(p['ci_high'])}",
                    "coded": int(p["coded"]),
                    "main_share": percent(p["main_share"]),
                    "main_ci": f"{percent(p['main_ci_low'])}–{percent(p['main_ci_high'])}",
                    "main": int(p["main"]),
                    "direction": d["direction"],
                    "quotes": quotes_for(code.id, evidence, records, params.quotes_per_theme),
                }
            )
        sections.append({"id": group, "label": group_label, "themes": themes})
    key_findings = findings(t, book, topics, params.findings)
    for finding in key_findings:
        finding["quotes"] = quotes_for(finding["theme"], evidence, records, 2) if finding["theme"] else []
    claims = t["claims"].head(60).to_dict("records")
    for claim in claims:
        claim["doi_link"] = doi_link(claim.get("doi"))
    config_text = json.dumps(settings, sort_keys=True)
    env = Environment(
        loader=PackageLoader("litthemes.report", "templates"),
        autoescape=select_autoescape(["j2", "html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    context = dict(
        title=params.title,
        study=settings.get("study", ""),
        findings=key_findings,
        sections=sections,
        captions=FIGURE_CAPTIONS,
        flow=flow,
        fields=t["field_availability"].to_dict("records"),
        topics=_with_trend(topics[topics["topic"] >= 0], t["topic_trends"]).to_dict("records"),
        topic_summary=topic_summary,
        training=training,
        agreement=codebook_agreement(book, settings),
        fit=fit,
        emergent=topics[topics["emergent"]].to_dict("records"),
        claims=claims,
        n_claims=len(t["claims"]),
        label=label,
        codebook=book,
        cross_heading=cross_heading(book),
        codebook_stamp=book.stamp,
        records=len(included),
        software=software_versions(),
        config_hash=hashlib.sha256(config_text.encode()).hexdigest()[:16],
        settings=settings,
        date=when.strftime("%Y-%m-%d"),
        n_codes=int(codes["present"].sum()),
    )
    template = env.get_template("brief.html.j2")
    shown = shown_figures(book)
    if out:
        write_text(template.render(figures=_figures(figures_dir, shown), **context), out)
    if pdf_out:
        images, placed = _pdf_figures(figures_dir, shown)
        _write_pdf(template.render(figures=images, **context), out or pdf_out, pdf_out, placed)
    return out or str(pdf_out)


def _with_trend(topics: pd.DataFrame, trends: pd.DataFrame) -> pd.DataFrame:
    direction = trends.set_index("topic")["direction"] if len(trends) else pd.Series(dtype=str)
    return topics.assign(trend=topics["topic"].map(direction).fillna("untested"))


def write_pdf(html_path: str | Path, pdf_path: str | Path) -> None:
    """Render a brief's HTML file to an A4 PDF with page numbers (WeasyPrint, a real HTML/CSS engine).

    The page size and the page-number footer come from the brief's ``@page`` CSS.
    No URL is fetched: the brief embeds its images as data URIs.
    """
    _write_pdf(Path(html_path).read_text(encoding="utf-8"), html_path, pdf_path)


def _write_pdf(html: str, html_path: str | Path, pdf_path: str | Path, placed: dict[str, Path] | None = None) -> None:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    from litthemes.tables import atomic_path

    missing = uncovered(html)
    if missing:
        log.warning(
            "the PDF brief cannot draw %s: no installed font has them; install %s and rebuild "
            "(the HTML brief shows them)",
            " ".join(missing),
            FONT_PACKAGES,
        )
        note = (
            '<p class="small">This PDF lacks a font for some characters (' + " ".join(missing) + "), shown as "
            f"boxes; the HTML brief shows them. Install {FONT_PACKAGES} and rebuild.</p>"
        )
        html = html.replace("</body>", note + "</body>")
    # Only data: and file: URLs (the brief and its embedded images); never the network.
    fetcher = URLFetcher(allowed_protocols={"data", "file"}, fail_on_errors=True)
    document = HTML(string=html, base_url=str(Path(html_path).resolve()), url_fetcher=fetcher).render()
    shown = {name: path for name, path in (placed or {}).items() if _blank_marker(name) in html}
    with atomic_path(pdf_path) as tmp:
        if not shown:
            document.write_pdf(str(tmp))
            return
        unplaced = set(shown) - _place_figures(document, shown, tmp)
        if unplaced:
            # A blank would stand where the figure belongs.
            raise ValueError(
                f"the PDF brief shows figures {sorted(unplaced)} but WeasyPrint did not report where: "
                "each figure's <img> needs the id img-<figure name>"
            )


def _place_figures(document: Any, placed: dict[str, Path], out: Path) -> set[str]:
    """Write ``document`` with each figure's PDF page drawn over its stand-in (``img-<name>``);
    return the names of the figures placed.

    WeasyPrint reports where each element with an id landed (``Page.anchors``: CSS px from
    the page's top left); qpdf (pikepdf) draws the figure's page there as a form XObject.
    """
    import io
    from contextlib import ExitStack

    import pikepdf

    px = 0.75  # PDF points per CSS pixel
    done: set[str] = set()
    with ExitStack() as stack:
        pdf = stack.enter_context(pikepdf.open(io.BytesIO(document.write_pdf())))
        for page, laid_out in zip(pdf.pages, document.pages, strict=True):
            height = float(page.mediabox[3])
            for name, path in placed.items():
                box = laid_out.anchors.get(f"img-{name}")
                if box is None:
                    continue  # on another page
                x0, y0, x1, y1 = box
                # qpdf copies a foreign object's data when the brief is saved: keep each figure open until then.
                figure = stack.enter_context(pikepdf.open(path))
                form = pdf.copy_foreign(figure.pages[0].as_form_xobject())
                # Named by the figure (Page.add_overlay would draw a random name: different bytes every run).
                resource = page.add_resource(form, pikepdf.Name.XObject, pikepdf.Name(f"/litthemes_{name}"))
                rectangle = pikepdf.Rectangle(x0 * px, height - y1 * px, x1 * px, height - y0 * px)
                page.contents_add(b"q\n", prepend=True)
                page.contents_add(
                    b"Q\n" + page.calc_form_xobject_placement(form, resource, rectangle, allow_expand=True)
                )
                done.add(name)
            page.contents_coalesce()
        # The same brief gives the same bytes (qpdf would otherwise draw a random file /ID).
        pdf.save(out, deterministic_id=True)
    return done
