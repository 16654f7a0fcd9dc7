"""OpenAlex online access: search and DOI enrichment, with an on-disk response cache.

Nothing here runs unless the config switches it on (``ingest.openalex.search`` or
``ingest.openalex.enrich_dois``). Responses are cached by request URL, so a rerun
is offline. Tests replay recorded responses through the ``session`` argument.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any, Protocol, cast
from urllib.parse import quote, urlencode

from litthemes.ingest.readers.openalex import openalex_fields
from litthemes.tables import write_text

API = "https://api.openalex.org"
log = logging.getLogger(__name__)


class HttpSession(Protocol):
    def get(self, url: str, timeout: float) -> Any: ...


class OpenAlexClient:
    """A small polite-pool client with paging, retries with backoff and a cache."""

    def __init__(
        self,
        cache_dir: str | Path,
        email: str = "",
        session: HttpSession | None = None,
        retries: int = 5,
        backoff: float = 1.0,
        sleep: Any = time.sleep,
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self.email = email
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        if session is None:
            import requests

            real = requests.Session()
            real.headers["User-Agent"] = f"litthemes (mailto:{email})" if email else "litthemes"
            session = cast(HttpSession, real)
        self.session: HttpSession = session

    def _cache_file(self, url: str) -> Path:
        return self.cache_dir / (hashlib.sha256(url.encode()).hexdigest()[:32] + ".json")

    def get_json(self, url: str) -> dict[str, Any]:
        """GET ``url`` (cached); retry 429/5xx and network errors with exponential backoff."""
        cached = self._cache_file(url)
        if cached.exists():
            return json.loads(cached.read_text(encoding="utf-8"))
        delay = self.backoff
        last_error = ""
        for attempt in range(1, self.retries + 1):
            try:
                response = self.session.get(url, timeout=30)
                status = response.status_code
                if status == 200:
                    payload = response.json()
                    write_text(json.dumps(payload, sort_keys=True), cached)
                    return payload
                if status == 404:
                    return {}
                last_error = f"HTTP {status}"
                if status not in (429, 500, 502, 503, 504):
                    break
            except (OSError, ValueError) as exc:  # requests' errors derive from OSError
                last_error = f"{type(exc).__name__}: {exc}"
            log.warning("OpenAlex %s failed (%s), attempt %d/%d", url, last_error, attempt, self.retries)
            if attempt < self.retries:
                self.sleep(delay)
                delay *= 2
        raise RuntimeError(f"OpenAlex request failed after {self.retries} attempts: {url} ({last_error})")

    def _params(self, **params: Any) -> str:
        if self.email:
            params["mailto"] = self.email
        return urlencode(params)

    def search(self, query: str, max_records: int, per_page: int = 200) -> list[dict[str, Any]]:
        """All works matching ``query`` (cursor paging), up to ``max_records``."""
        works: list[dict[str, Any]] = []
        cursor = "*"
        while cursor and len(works) < max_records:
            url = f"{API}/works?" + self._params(search=query, per_page=per_page, cursor=cursor)
            page = self.get_json(url)
            results = page.get("results") or []
            works.extend(results)
            cursor = str((page.get("meta") or {}).get("next_cursor") or "")
            if not results:
                break
        return works[:max_records]

    def work_by_doi(self, doi: str) -> dict[str, Any]:
        url = (
            f"{API}/works/" + quote(f"https://doi.org/{doi}", safe=":/") + ("?" + self._params() if self.email else "")
        )
        return self.get_json(url)


def search_to_file(client: OpenAlexClient, query: str, max_records: int, out: str | Path) -> int:
    """Run a search and store the works as a JSON list that the OpenAlex reader ingests."""
    works = client.search(query, max_records)
    write_text(json.dumps(works, sort_keys=True), out)
    return len(works)


ENRICHABLE = ("abstract", "year", "venue", "keywords")


def enrich(records: list[dict[str, Any]], client: OpenAlexClient) -> dict[str, int]:
    """Fill missing abstract/year/venue/keywords of records with a DOI, in place.

    Returns how many records gained each field.
    """
    gained = {f: 0 for f in ENRICHABLE}
    for record in records:
        if not record.get("doi") or all(record.get(f) for f in ENRICHABLE):
            continue
        work = client.work_by_doi(record["doi"])
        if not work:
            continue
        fields = openalex_fields(work)
        for name in ENRICHABLE:
            if not record.get(name) and fields.get(name):
                record[name] = fields[name]
                gained[name] += 1
    return gained
