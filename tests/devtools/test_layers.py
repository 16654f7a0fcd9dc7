"""The stage-order check: it passes on litthemes and catches an import of a later stage."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from litthemes.devtools.layers import check

ROOT = Path(__file__).resolve().parents[2]


def test_litthemes_imports_stages_in_pipeline_order() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "litthemes.devtools.layers"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout
    assert "0 imports against the stage order" in done.stderr


def _package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "litthemes" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_a_later_stage_imported_in_a_function_or_relatively_is_caught(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "__init__.py": "",
            "tables.py": "",
            "segment/__init__.py": "from litthemes.tables import x\n",
            "segment/run.py": "def f():\n    from litthemes.code.score import y\n",
            "code/__init__.py": "from . import score\nfrom litthemes.segment import z\n",
            "code/score.py": "from ..trends import w\n",
            "tables.py.bak": "",
            "shards.py": "import litthemes.embed\n",
        },
    )
    found = {(v.importer, v.imported, v.line) for v in check(root)}
    assert found == {("segment", "code", 2), ("code", "trends", 1), ("shards", "embed", 1)}
