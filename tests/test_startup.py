"""Start-up helpers: optional imports hidden without changing results, UMAP's compiled code kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from litthemes import __version__
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
              # compiled for an explicit signature while umap is imported
              "import umap.utils as u; assert isinstance(u.tau_rand_int._cache, FunctionCache); "
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


def _exit_script(body: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run ``body`` in a fresh interpreter that ends with exit_now; stdout goes to a pipe
    (block-buffered, so unflushed output would be lost)."""
    script = tmp_path / "script.py"
    script.write_text("import atexit, sys, threading, time\nfrom litthemes.startup import exit_now\n" + body)
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)


def test_exit_now_runs_exit_handlers_flushes_output_and_keeps_the_status(tmp_path: Path) -> None:
    done = _exit_script(
        "atexit.register(lambda: open('handler-ran', 'w').close())\n"
        "print('buffered line')\n"
        "sys.stderr.write('error text')\n"
        "exit_now(3)\n"
        "print('never reached')\n",
        tmp_path,
    )
    assert done.returncode == 3
    assert done.stdout == "buffered line\n"
    assert done.stderr == "error text"
    assert (tmp_path / "handler-ran").exists()


def test_exit_now_reads_its_status_as_sys_exit_does(tmp_path: Path) -> None:
    assert _exit_script("exit_now(None)\n", tmp_path).returncode == 0
    message = _exit_script("exit_now('stopped: reason')\n", tmp_path)
    assert (message.returncode, message.stderr.strip()) == (1, "stopped: reason")


def test_exit_now_waits_for_a_running_thread(tmp_path: Path) -> None:
    done = _exit_script(
        "def work():\n"
        "    time.sleep(0.5)\n"
        "    open('thread-finished', 'w').close()\n"
        "threading.Thread(target=work).start()\n"
        "exit_now(0)\n",
        tmp_path,
    )
    assert done.returncode == 0
    assert (tmp_path / "thread-finished").exists()


def test_the_command_line_ends_with_exit_now(tmp_path: Path) -> None:
    # The console script and `python -m litthemes` both go through cli.run: the usage
    # error's status and message survive the fast exit, as does ordinary output.
    bad = subprocess.run([sys.executable, "-m", "litthemes", "check", str(tmp_path / "missing.yaml")],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert "missing.yaml" in bad.stderr
    good = subprocess.run([sys.executable, "-m", "litthemes", "--version"], capture_output=True, text=True, timeout=120)
    assert (good.returncode, good.stdout.strip()) == (0, f"litthemes, version {__version__}")


def test_cancel_timers_stops_a_pending_timer_so_the_process_can_end() -> None:
    # Without the cancel the process would wait the full minute for the timer's thread.
    out = _python(
        "import threading; from litthemes.startup import cancel_timers; "
        "threading.Timer(60, lambda: print('fired')).start(); print(cancel_timers())"
    )
    assert out == "1"


def test_snakemake_leaves_a_timer_for_the_snakefiles_end_hook_to_cancel(tmp_path: Path) -> None:
    """The Snakefile's onsuccess cancels the scheduler's rate-limit timer: this Snakemake still leaves one."""
    (tmp_path / "Snakefile").write_text(
        "from litthemes.startup import cancel_timers\n\n"
        "rule made:\n    output: 'made.txt'\n    shell: 'touch {output}'\n\n"
        "onsuccess:\n    open('cancelled.txt', 'w').write(str(cancel_timers()))\n",
        encoding="utf-8",
    )
    done = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1", "--quiet"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "made.txt").exists()
    assert int((tmp_path / "cancelled.txt").read_text()) >= 1
