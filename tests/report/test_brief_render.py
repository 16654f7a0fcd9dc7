"""The brief as a reader sees it: headless Chromium for the HTML, page images for the PDF."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROME_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]

CHECKS = """
<pre id="litthemes-checks"></pre>
<script>
window.addEventListener('load', () => {
  const width = document.documentElement.clientWidth;
  const images = [...document.images];
  const broken = images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt);
  const overflowing = [...document.querySelectorAll('body *')]
    .filter(e => e.id !== 'litthemes-checks' && e.getBoundingClientRect().right > width + 1)
    .map(e => e.tagName + (e.className ? '.' + e.className : '')).slice(0, 20);
  document.getElementById('litthemes-checks').textContent = JSON.stringify({
    images: images.length, broken, overflowing, width,
    pageOverflow: document.documentElement.scrollWidth > width + 1});
});
</script>
"""


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHROMIUM, *CHROME_FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
@pytest.mark.parametrize("width", [1280, 820])
def test_brief_in_chromium_images_load_and_nothing_overflows(workflow_run: Path, tmp_path: Path, width: int) -> None:
    brief = workflow_run / "reports" / "brief.html"
    html = brief.read_text(encoding="utf-8")
    # The brief forbids scripts (Content-Security-Policy); the probe copy drops that line only.
    probe = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html).replace("</body>", CHECKS + "</body>")
    page = tmp_path / "probe.html"
    page.write_text(probe, encoding="utf-8")
    result = chromium(
        tmp_path / "profile", f"--window-size={width},1200", "--virtual-time-budget=10000", "--dump-dom", page.as_uri()
    )
    match = re.search(r'<pre id="litthemes-checks">(.*?)</pre>', result.stdout, re.S)
    assert match and match.group(1), result.stderr[-2000:]
    checks = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert checks["images"] >= 6 and checks["broken"] == []
    assert checks["overflowing"] == [] and not checks["pageOverflow"], checks
    # Keep a screenshot of the real brief (scripts off, as a reader gets it).
    shot = workflow_run / "reports" / f"brief-screenshot-{width}.png"
    chromium(tmp_path / "profile2", f"--window-size={width},3000", f"--screenshot={shot}", brief.as_uri())
    assert shot.stat().st_size > 20_000


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils is not installed (.ci/run installs it)")
def test_pdf_is_a4_with_page_numbers_and_renders(workflow_run: Path, tmp_path: Path) -> None:
    from pypdf import PdfReader

    pdf = workflow_run / "reports" / "brief.pdf"
    reader = PdfReader(pdf)
    pages = len(reader.pages)
    assert pages >= 5
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 595.3) < 1 and abs(float(box.height) - 841.9) < 1
    assert f"Page 1 of {pages}" in reader.pages[0].extract_text()
    # The figures are their own PDF pages, vector graphics: their text is text in the PDF.
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Themes over time: share of each year's records" in text and "Publication year" in text
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(tmp_path / "page")], check=True, timeout=120)
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == pages
    from PIL import Image

    for image in images[:3]:
        pixels = Image.open(image).convert("L")
        assert pixels.getextrema()[0] < 100  # something dark was drawn: the page is not blank
