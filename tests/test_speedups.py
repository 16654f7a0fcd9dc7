"""litthemes.speedups: the one module that reaches into other libraries, and its switch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from litthemes.speedups import import_hiding
from workflow_helpers import make_project, run_snakemake


def _python(code: str, **env: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env}, timeout=600
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


BERTOPIC_IMPORTS = (
    "import sys; from litthemes.speedups import import_bertopic; import_bertopic(); "
    "print(sorted(m for m in ('sentence_transformers', 'transformers', 'spacy') if m in sys.modules)); "
)


def test_bertopic_imports_without_the_libraries_it_would_not_use_and_they_import_afterwards() -> None:
    out = _python(BERTOPIC_IMPORTS + "import sentence_transformers; print('ok')")
    assert out.splitlines() == ["[]", "ok"]


def test_the_switch_turns_the_hiding_off() -> None:
    out = _python(BERTOPIC_IMPORTS, LITTHEMES_SPEEDUPS="0")
    assert out != "[]"  # BERTopic imported its optional back-ends as it does by itself


SPACY_WITHOUT_TORCH = """
import sys
from litthemes.speedups import import_spacy
import_spacy()
assert "torch" not in sys.modules, "torch was imported with spaCy"
from litthemes.segment import lemmatize
assert lemmatize(["Badges were issued to learners."]) == ["badge be issue to learner"]
import torch
assert float(torch.ones(3).sum()) == 3.0
import thinc.compat
print("has_torch", thinc.compat.has_torch)
"""


def test_spacy_loads_without_torch_and_torch_imports_after() -> None:
    assert "has_torch False" in _python(SPACY_WITHOUT_TORCH)


def test_a_library_that_needs_the_hidden_module_is_imported_as_usual(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "helper_mod.py").write_text("VALUE = 3\n")
    (tmp_path / "needs_helper.py").write_text("import helper_mod\nVALUE = helper_mod.VALUE * 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = import_hiding("needs_helper", ("helper_mod",))
    assert module.VALUE == 6 and sys.modules["helper_mod"] is not None


@pytest.mark.slow
def test_umap_with_cached_compilation_gives_the_same_layout(tmp_path: Path) -> None:
    fit = (
        "import numpy as np; from litthemes.speedups import cache_umap_compilation; cache_umap_compilation(); "
        "from umap import UMAP; import umap.layouts as l; from numba.core.caching import FunctionCache; "
        "print(isinstance(l.clip._cache, FunctionCache)); "
        "x = np.random.default_rng(0).normal(size=(120, 16)).astype(np.float32); "
        "y = UMAP(n_neighbors=10, n_components=3, min_dist=0.0, random_state=1, n_jobs=1).fit_transform(x); "
        "np.save({out!r}, y)"
    )
    assert _python(fit.format(out=str(tmp_path / "plain.npy")), LITTHEMES_SPEEDUPS="0") == "False"
    for run in range(2):  # the second run reads what the first compiled
        assert _python(fit.format(out=str(tmp_path / f"cached-{run}.npy"))) == "True"
    plain = (tmp_path / "plain.npy").read_bytes()
    assert all((tmp_path / f"cached-{run}.npy").read_bytes() == plain for run in range(2))


@pytest.mark.slow
def test_the_workflow_gives_byte_identical_tables_with_the_speedups_off(
    workflow_run: Path, tmp_path: Path, embed_cache: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LITTHEMES_SPEEDUPS", "0")
    plain = make_project(tmp_path, embed_cache)
    result = run_snakemake(plain)
    assert result.returncode == 0, result.stderr[-4000:]
    tables = sorted(p.relative_to(workflow_run) for p in (workflow_run / "data" / "processed").rglob("*.parquet"))
    assert len(tables) > 20
    differ = [str(t) for t in tables if (workflow_run / t).read_bytes() != (plain / t).read_bytes()]
    assert not differ
