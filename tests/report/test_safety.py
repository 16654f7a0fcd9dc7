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
