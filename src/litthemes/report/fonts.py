"""Which characters of the brief no installed font can draw (the PDF would show boxes).

WeasyPrint takes each glyph from the first installed font that has it (fontconfig), so
titles in Chinese, Japanese, Korean, Arabic or other scripts print where a font for
them is installed (on Debian: fonts-noto-cjk, fonts-noto-core). Where none is, the PDF
says so, and the log names the package.
"""

from __future__ import annotations

import functools
import html
import re
import shutil
import subprocess
import unicodedata

# The package that covers most scripts a title may be in, on Debian and Ubuntu.
FONT_PACKAGES = "fonts-noto-cjk (Chinese, Japanese, Korean) or fonts-noto-core (other scripts)"
_TAG = re.compile(r"<[^>]+>|data:[^\"')\s]+")


@functools.lru_cache(maxsize=4096)
def covered(character: str) -> bool:
    """Whether an installed font has ``character`` (True where fontconfig cannot be asked)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return True
    done = subprocess.run(
        [fc_list, f":charset={ord(character):x}", "family"], capture_output=True, text=True, timeout=30, check=False
    )
    return done.returncode != 0 or bool(done.stdout.strip())


def uncovered(page: str, limit: int = 12) -> list[str]:
    """Up to ``limit`` characters of an HTML page that no installed font has (one per
    Unicode block name, so a title in one script costs one lookup)."""
    text = html.unescape(_TAG.sub(" ", page))
    seen_blocks: set[str] = set()
    missing = []
    for character in sorted(set(text)):
        if ord(character) < 0x2000 or unicodedata.category(character)[0] in "CZP":
            continue  # Latin, Greek, Cyrillic and punctuation: DejaVu has them
        block = unicodedata.name(character, "?").split(" ")[0]
        if block in seen_blocks:
            continue
        seen_blocks.add(block)
        if not covered(character):
            missing.append(character)
            if len(missing) == limit:
                break
    return missing
