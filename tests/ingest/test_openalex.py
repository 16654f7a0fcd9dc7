"""OpenAlex search and DOI enrichment, replayed from recorded responses (never the network)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from litthemes.config import IngestSettings, OpenAlexSettings
from litthemes.ingest import ingest
from litthemes.ingest.openalex import OpenAlexClient

pytestmark = pytest.mark.disable_socket

RECORDED = json.loads((Path(__file__).parent / "recorded" / "openalex.json").read_text())


class Response:
    def __init__(self, status: int, payload: Any = None) -> None:
        self.status_code = status
        self._payload = payload

    def json(self) -> Any:
        return self._payload


class ReplaySession:
    """Serves recorded pages; the first request answers 429 to exercise the backoff."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def get(self, url: str, timeout: float) -> Response:
        self.urls.append(url)
        if len(self.urls) == 1:
            return Response(429)
        if "/works/https" in url:
            return Response(200, RECORDED["doi"])
        if "cursor=CURSOR2" in url:
            return Response(200, RECORDED["page2"])
        if "cursor=%2A" in url:
            return Response(200, RECORDED["page1"])
        return Response(404)


def test_search_pages_retries_and_caches(tmp_path: Path) -> None:
    session = ReplaySession()
    sleeps: list[float] = []
    client = OpenAlexClient(tmp_path / "cache", email="me@example.org", session=session, sleep=sleeps.append)
    works = client.search("micro-credentials", max_records=10, per_page=2)
    assert [w["title"] for w in works] == [
        "Micro-credentials and employability",
        "Open Badges in teacher education",
        "Stackable credentials toward degrees",
    ]
    assert sleeps == [1.0]  # one 429, one backoff
    assert all("mailto=me%40example.org" in u for u in session.urls)
    # A second client answers from the cache: no request at all.
    offline = OpenAlexClient(tmp_path / "cache", email="me@example.org", session=ReplaySession(), sleep=sleeps.append)
    assert len(offline.search("micro-credentials", max_records=10, per_page=2)) == 3
    assert offline.session.urls == []  # type: ignore[attr-defined]


def test_gives_up_after_retries(tmp_path: Path) -> None:
    class Down:
        def get(self, url: str, timeout: float) -> Response:
            return Response(503)

    client = OpenAlexClient(tmp_path, session=Down(), retries=3, sleep=lambda s: None)
    with pytest.raises(RuntimeError, match="after 3 attempts"):
        client.get_json("https://api.openalex.org/works?search=x")


def test_ingest_with_search_and_enrichment(tmp_path: Path) -> None:
    bib = tmp_path / "mine.csv"
    bib.write_text(
        "title,year,doi\nDigital badges for staff training,,10.1080/1941126X.2017.1378543\n", encoding="utf-8"
    )
    settings = IngestSettings(
        openalex=OpenAlexSettings(search=True, enrich_dois=True, cache_dir=str(tmp_path / "c"), max_records=3)
    )
    client = OpenAlexClient(tmp_path / "c", session=ReplaySession(), sleep=lambda s: None)
    records, flow = ingest([str(bib)], settings, openalex_client=client)
    assert flow["totals"]["read"] == 4
    mine = records[records["source_file"] == str(bib)].iloc[0]
    assert mine["abstract"] == "Libraries used digital badges to motivate employees to learn."
    assert mine["year"] == 2017
    assert flow["enrichment"]["abstract"] >= 1
    searched = records[records["source_format"] == "openalex_json"]
    assert set(searched["title"]) >= {"Open Badges in teacher education"}


def test_offline_by_default() -> None:
    settings = IngestSettings()
    assert not settings.openalex.search and not settings.openalex.enrich_dois


def test_real_client_cannot_reach_the_network_in_tests(tmp_path: Path) -> None:
    """The default client is real (requests); in tests its connection attempts fail."""
    client = OpenAlexClient(tmp_path, retries=1, sleep=lambda s: None)
    with pytest.raises(RuntimeError, match=r"socket|failed after 1 attempts"):
        client.get_json("https://api.openalex.org/works?search=badges")
