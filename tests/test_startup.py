"""Start-up helpers: optional imports hidden without changing results, UMAP's compiled code kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from litthemes.startup import import_hiding


def _python(code: str, path: Path | None = None) -> str:
    env = dict(os.environ)
    if path is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(path), env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_bertopic_without_the_libraries_it_would_not_use() -> None:
    out = _python(
        "import sys; from litthemes.startup import import_bertopic; import_bertopic(); "
        "from bertopic import BERTopic; from bertopic.representation import KeyBERTInspired; "
        "print(sorted(m for m in ('sentence_transformers', 'transformers', 'spacy') if m in sys.modules)); "
        "import torch, sentence_transformers; print(float(torch.ones(2).sum()))"
    )
    assert out.splitlines() == ["[]", "2.0"]  # none imported, and each imports normally afterwards


def test_a_library_that_needs_the_hidden_module_is_imported_as_usual(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "helper_mod.py").write_text("VALUE = 3\n")
    (tmp_path / "needs_helper.py").write_text("import helper_mod\nVALUE = helper_mod.VALUE * 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = import_hiding("needs_helper", ("helper_mod",))
    assert module.VALUE == 6 and sys.modules["helper_mod"] is not None


def test_umap_with_cached_compilation_gives_the_same_layout(tmp_path: Path) -> None:
    fit = (
        "import numpy as np; {setup}from umap import UMAP; "
        "x = np.random.default_rng(0).normal(size=(120, 16)).astype(np.float32); "
        "y = UMAP(n_neighbors=10, n_components=3, min_dist=0.0, random_state=1, n_jobs=1).fit_transform(x); "
        "np.save({out!r}, y)"
    )
    cached = ("from litthemes.startup import cache_umap_compilation; cache_umap_compilation(); "
              "import umap.layouts as l; from numba.core.caching import FunctionCache; "
              "assert isinstance(l.clip._cache, FunctionCache); "
              # serial and parallel layout steps share a Python function: only the serial one is cached
              "assert isinstance(l._nb_optimize_layout_euclidean_single_epoch._cache, FunctionCache); "
              "assert not isinstance(l._nb_optimize_layout_euclidean_single_epoch_parallel._cache, FunctionCache); ")
    _python(fit.format(setup="", out=str(tmp_path / "plain.npy")))
    for run in range(2):  # the second run reads what the first compiled
        _python(fit.format(setup=cached, out=str(tmp_path / f"cached-{run}.npy")))
    plain = (tmp_path / "plain.npy").read_bytes()
    assert all((tmp_path / f"cached-{run}.npy").read_bytes() == plain for run in range(2))


def test_the_topic_fit_imports_torch_before_umap_runs() -> None:
    """torch imported after numba's threads start ran its operators 20-80x slower."""
    out = _python(
        "import sys; from litthemes.config import EmbedSettings; "
        "from litthemes.topics import cached_embedder; cached_embedder(EmbedSettings()); "
        "print('torch' in sys.modules, 'umap' in sys.modules)"
    )
    assert out == "True True"
