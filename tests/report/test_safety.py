"""Links are only made from DOIs and http(s) URLs."""

from __future__ import annotations

from litthemes.report import doi_link, safe_url


def test_doi_links() -> None:
    assert doi_link("10.5171/2025.4621925") == "https://doi.org/10.5171/2025.4621925"
    assert doi_link("javascript:alert(1)") == ""
    assert doi_link('10.1/"><script>') == ""
    assert doi_link(None) == ""


def test_urls() -> None:
    assert safe_url("https://example.org/a?b=1") == "https://example.org/a?b=1"
    assert safe_url("javascript:alert(1)") == ""
    assert safe_url("data:text/html,hi") == ""


def test_characters_no_font_has_are_named_once_per_script(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from litthemes.report import fonts

    asked: list[str] = []

    def fake_covered(character: str) -> bool:
        asked.append(character)
        return not ("\u4e00" <= character <= "\u9fff")

    monkeypatch.setattr(fonts, "covered", fake_covered)
    page = '<p title="x">Données 数据科学 — Ελληνικά, 日本語 &amp; ①</p><img src="data:image/png;base64,5pWw">'
    assert fonts.uncovered(page) == ["学"]
    # Latin, Greek and punctuation are not asked about; one CJK character stands for its block.
    assert asked == ["①", "学"]
