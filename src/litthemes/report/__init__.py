"""Report stage: the policy brief (self-contained HTML), written from the numbers by templates.

Every text that comes from a record is escaped by Jinja2's autoescaping; links are
made only from DOIs that look like DOIs and from http(s) URLs.
"""

from __future__ import annotations

from litthemes.report.brief import (
    SOFTWARE,
    doi_link,
    findings,
    quotes_for,
    run,
    safe_url,
    software_versions,
    write_pdf,
)

__all__ = ["SOFTWARE", "doi_link", "findings", "quotes_for", "run", "safe_url", "software_versions", "write_pdf"]
