"""The PDF brief places each figure's own PDF page where WeasyPrint laid out its stand-in."""

from __future__ import annotations

import re
from pathlib import Path

import pikepdf
import pytest

from litthemes.report.brief import _pdf_figures, _write_pdf

PX = 0.75  # PDF points per CSS pixel


def figure_pdf(path: Path, width_in: float, height_in: float, colour: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(width_in, height_in), facecolor=colour)
    fig.text(0.5, 0.5, "Publication year", ha="center")
    fig.savefig(path, format="pdf", facecolor=colour, metadata={"CreationDate": None, "ModDate": None})
    plt.close(fig)


def placements(pdf_path: Path) -> list[tuple[int, str, list[float]]]:
    """(page, form name, cm matrix) of every form XObject drawn on the brief's pages."""
    found = []
    with pikepdf.open(pdf_path) as pdf:
        for number, page in enumerate(pdf.pages):
            matrix: list[float] = []
            for operands, operator in pikepdf.parse_content_stream(page):
                if str(operator) == "cm":
                    matrix = [float(x) for x in operands]
                elif str(operator) == "Do":
                    xobject = page.resources.XObject[operands[0]]
                    if xobject.Subtype == "/Form":
                        found.append((number, str(operands[0]), matrix))
    return found


@pytest.fixture()
def figures(tmp_path: Path) -> Path:
    folder = tmp_path / "figures"
    folder.mkdir()
    for name, size, colour in (("wide", (8.0, 4.0), "#d55e00"), ("tall", (4.0, 6.0), "#0072b2")):
        figure_pdf(folder / f"{name}.pdf", *size, colour)
        (folder / f"{name}.png").write_bytes(b"")  # the figures the brief knows are those with a PNG
    return folder


HTML = """<html><head><style>@page {{ size: A4; margin: 0 }} body {{ margin: 0 }}
img {{ display: block }}</style></head><body>
<div style="padding: 200px 0 0 100px"><img id="img-wide" src="{wide}" style="width: 400px"></div>
<div style="break-before: page; padding: 60px 0 0 50px"><img id="img-tall" src="{tall}" style="height: 300px"></div>
</body></html>"""


def test_each_figure_is_placed_over_its_stand_in_at_its_size(figures: Path, tmp_path: Path) -> None:
    images, placed = _pdf_figures(figures)
    assert set(placed) == {"wide", "tall"}
    out = tmp_path / "brief.pdf"
    _write_pdf(HTML.format(**images), tmp_path / "brief.html", out, placed)
    found = placements(out)
    assert [(page, len(matrix)) for page, _, matrix in found] == [(0, 6), (1, 6)]
    with pikepdf.open(out) as pdf:
        page_height = float(pdf.pages[0].mediabox[3])
    # The wide figure (576 x 288 pt) into 400 px of width at (100, 200) px from the top left:
    # scaled by 300/576, its bottom left at 75 pt and page height - (200 + 200) px.
    # (The content stream carries five decimals.)
    a, b, c, d, e, f = found[0][2]
    assert (b, c) == (0, 0)
    assert a == pytest.approx(400 * PX / 576, abs=1e-4) and d == pytest.approx(a, abs=1e-4)
    assert e == pytest.approx(100 * PX, abs=0.01) and f == pytest.approx(page_height - 400 * PX, abs=0.01)
    # The tall one (288 x 432 pt), 300 px high at (50, 60) px, on the second page.
    a, b, c, d, e, f = found[1][2]
    assert a == pytest.approx(300 * PX / 432, abs=1e-4) and d == pytest.approx(a, abs=1e-4)
    assert e == pytest.approx(50 * PX, abs=0.01) and f == pytest.approx(page_height - 360 * PX, abs=0.01)


def test_the_placed_pdf_is_the_same_bytes_every_time_and_keeps_the_figure_text(figures: Path, tmp_path: Path) -> None:
    from pypdf import PdfReader

    images, placed = _pdf_figures(figures)
    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    for out in (first, second):
        _write_pdf(HTML.format(**images), tmp_path / "brief.html", out, placed)
    assert first.read_bytes() == second.read_bytes()
    assert "Publication year" in PdfReader(first).pages[0].extract_text()


def test_a_figure_without_a_pdf_is_drawn_from_its_svg(figures: Path) -> None:
    (figures / "wide.pdf").unlink()
    (figures / "wide.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10pt" height="5pt"/>')
    images, placed = _pdf_figures(figures)
    assert set(placed) == {"tall"}
    assert images["wide"].startswith("data:image/svg+xml;base64,")


@pytest.mark.slow
def test_the_workflow_brief_places_every_figure_it_shows(workflow_run: Path) -> None:
    html = (workflow_run / "reports" / "brief.html").read_text(encoding="utf-8")
    shown = set(re.findall(r'<img id="img-([a-z_]+)"', html))
    figures = workflow_run / "reports" / "figures"
    assert shown and all((figures / f"{name}.pdf").exists() for name in shown)
    assert len(placements(workflow_run / "reports" / "brief.pdf")) == len(shown)


def test_a_blank_shown_where_no_figure_can_be_placed_is_an_error(figures: Path, tmp_path: Path) -> None:
    images, placed = _pdf_figures(figures)
    without_id = HTML.format(**images).replace('id="img-tall" ', "")
    with pytest.raises(ValueError, match=r"shows figures \['tall'\].*img-<figure name>"):
        _write_pdf(without_id, tmp_path / "brief.html", tmp_path / "brief.pdf", placed)
    assert not (tmp_path / "brief.pdf").exists()


def test_a_figure_whose_name_starts_another_is_not_taken_as_shown(figures: Path, tmp_path: Path) -> None:
    figure_pdf(figures / "wide_more.pdf", 2.0, 2.0, "#009e73")
    (figures / "wide_more.png").write_bytes(b"")
    images, placed = _pdf_figures(figures)
    out = tmp_path / "brief.pdf"
    _write_pdf(HTML.format(**images), tmp_path / "brief.html", out, placed)  # wide_more is not in this brief
    assert len(placements(out)) == 2
