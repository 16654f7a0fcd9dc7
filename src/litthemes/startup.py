"""Start-up costs of heavy libraries: what a job imports and compiles before it works.

A rerun after a small change is a dozen short jobs, each a new Python process, so
seconds spent importing libraries a job never calls, or recompiling the same numba
functions, add up to most of its time. Measured here (2-core machine):

- spaCy imports thinc, which imports torch whenever it is installed (1.5 s), although
  only transformer pipelines use it;
- BERTopic imports sentence-transformers, transformers and spaCy at import time for
  back-ends and representations litthemes does not use (about 4 s);
- umap-learn compiles about 120 numba functions in every process that runs UMAP
  (about 10 s), two of them as it is imported (about 1 s), and does not let numba
  keep them.

Each helper keeps results the same: hiding a module only stops an optional import
inside a library (the library then marks that option unavailable), and numba's cache
holds the machine code it would compile anyway.

The end of a job costs time too: once its command has written its outputs, Python
still frees every module and object one by one before the process ends (0.2-0.6 s
for a job that imported torch, spaCy, matplotlib or statsmodels), which
:func:`exit_now` skips. Snakemake's own process waited for a timer of its scheduler
before it ended (:func:`cancel_timers`).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import importlib.util
import logging
import os
import sys
import threading
from collections.abc import Sequence
from types import ModuleType
from typing import Any, NoReturn

log = logging.getLogger(__name__)

# Packages that run spaCy pipelines on torch: with one installed, spaCy keeps its torch.
TORCH_SPACY_PACKAGES = ("spacy_transformers", "spacy_curated_transformers")
# What BERTopic imports for embedding back-ends and generative and part-of-speech
# representations: litthemes hands it its own embedder. (Not torch: see import_torch.)
BERTOPIC_UNUSED = ("sentence_transformers", "transformers", "spacy")


def import_hiding(name: str, hidden: Sequence[str], unless: Sequence[str] = ()) -> ModuleType:
    """Import module ``name`` while the modules ``hidden`` look not installed.

    A module already imported cannot be hidden and is left alone; when a package in
    ``unless`` is installed nothing is hidden. Hidden modules import normally again
    afterwards. If the import fails with them hidden, it is retried without hiding.
    """
    if name in sys.modules:
        return sys.modules[name]
    if any(importlib.util.find_spec(package) is not None for package in unless):
        return importlib.import_module(name)
    hide = [module for module in hidden if module not in sys.modules]
    for module in hide:
        sys.modules[module] = None  # type: ignore[assignment]  # `import module` raises ModuleNotFoundError
    try:
        return importlib.import_module(name)
    except Exception as error:  # a library that needs what was hidden: import it as usual
        log.debug("importing %s with %s hidden failed (%s); importing it as usual", name, hide, error)
        for loaded in [key for key in sys.modules if key == name or key.startswith(f"{name}.")]:
            del sys.modules[loaded]
    finally:
        for module in hide:
            if sys.modules.get(module, "") is None:
                del sys.modules[module]
    return importlib.import_module(name)


def import_spacy() -> ModuleType:
    """spaCy, without thinc importing torch unless a torch-based pipeline package is installed."""
    return import_hiding("spacy", ("torch",), unless=TORCH_SPACY_PACKAGES)


def import_torch() -> ModuleType:
    """torch, imported before anything runs numba's parallel code in this process.

    Imported after numba has started its worker threads (UMAP's parallel functions),
    torch's CPU operators ran 20-80x slower here: two OpenMP runtimes competing for
    the cores. A process that fits UMAP and then embeds text (the topic fit, through
    KeyBERTInspired) imports torch first.
    """
    import torch

    return torch


def import_bertopic() -> ModuleType:
    """BERTopic without the optional libraries it imports for features litthemes does not use."""
    import_umap()  # BERTopic imports umap: first, so that its import-time compilations are cached
    return import_hiding("bertopic", BERTOPIC_UNUSED)


def import_umap() -> ModuleType:
    """umap-learn, with the functions it compiles while being imported kept in numba's cache.

    ``umap.utils`` compiles two functions for explicit signatures as it is imported
    (``@numba.njit("i4(i8[:])")``): about 1 s in every process that imports umap,
    this being the process's first numba compilation. numba caches a function only
    when its decorator asks, so while umap is imported, ``numba.njit`` asks for it
    wherever a signature is given. Functions compiled lazily are left to
    :func:`cache_umap_compilation`.
    """
    if "umap" in sys.modules:
        return sys.modules["umap"]
    import numba

    njit: Any = numba.njit

    def njit_cached(*args: Any, **options: Any) -> Any:
        eager = bool(args) and isinstance(args[0], str) and "cache" not in options
        if not eager:
            return njit(*args, **options)

        def decorate(function: Any) -> Any:
            try:
                return njit(*args, cache=True, **options)(function)
            except RuntimeError:  # nowhere to write a cache: compiled as before
                return njit(*args, **options)(function)

        return decorate

    setattr(numba, "njit", njit_cached)  # noqa: B010  (mypy: numba's stubs type njit as overloads)
    try:
        return importlib.import_module("umap")
    finally:
        setattr(numba, "njit", njit)  # noqa: B010


_UMAP_CACHED = False


def cache_umap_compilation() -> None:
    """Let numba keep umap-learn's compiled functions on disk (numba's own cache).

    numba stores them beside umap's sources, or in the user's cache folder when that
    is read-only, keyed by source file, signature, CPU and numba version, and compiles
    again when any of them changes. Where no cache location is writable, UMAP simply
    compiles as before.
    """
    global _UMAP_CACHED
    if _UMAP_CACHED:
        return
    _UMAP_CACHED = True  # once a process: where caching fails, it fails again
    import_umap()
    from numba.core.caching import NullCache
    from numba.core.dispatcher import Dispatcher

    modules = [module for key, module in list(sys.modules.items())
               if module is not None and (key == "umap" or key.startswith("umap."))]
    dispatchers = {id(value): value for module in modules for value in list(vars(module).values())
                   if isinstance(value, Dispatcher)}
    # numba files a function's cache under its Python function and signature, not its
    # compile options: umap compiles its layout step twice from one function, serial and
    # parallel (for unseeded runs), and two cached twins would read each other's code.
    # Of twins only the serial one is cached (litthemes always seeds UMAP).
    by_function: dict[int, list[Dispatcher]] = {}
    for dispatcher in dispatchers.values():
        by_function.setdefault(id(dispatcher.py_func), []).append(dispatcher)
    for twins in by_function.values():
        serial = [d for d in twins if len(twins) == 1 or not d.targetoptions.get("parallel")]
        if len(serial) != 1 or not isinstance(getattr(serial[0], "_cache", None), NullCache):
            continue
        try:
            serial[0].enable_caching()
        except RuntimeError as error:  # no writable cache location
            log.debug("numba cannot cache %s: %s", serial[0].py_func.__qualname__, error)
            return


def exit_now(code: str | int | None = 0) -> NoReturn:
    """End the process with exit status ``code`` (as :func:`sys.exit` reads it) without
    tearing the interpreter down.

    Exit handlers still run (logging's flush among them) and the standard streams are
    flushed; what is skipped is freeing the modules and objects, which the operating
    system reclaims at once. Where another thread or a child process is still running,
    the process exits the usual way, which waits for them. For the command line only:
    a caller inside a longer-lived process (tests, notebooks) calls the commands directly.
    """
    threads = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon and t.is_alive()]
    processes = sys.modules.get("multiprocessing")
    if threads or (processes is not None and processes.active_children()):
        sys.exit(code)
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit prints any other value and exits with 1
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        # Closed, or a broken pipe: nothing left to write to.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)


def cancel_timers() -> int:
    """Cancel every pending :class:`threading.Timer` of this process; return how many.

    For the end of a Snakemake run (the Snakefile's ``onsuccess`` and ``onerror``).
    Snakemake's job-rate limiter (``--max-jobs-per-timespan``, 100 jobs a second by
    default) re-arms a one-second timer after each scheduling pass, on a thread that
    is not a daemon, so the interpreter waited up to a second for the last one before
    exiting: a second at the end of every run that ran a job. Its only action is to
    wake the scheduler, which has finished by then.
    """
    timers = [t for t in threading.enumerate() if isinstance(t, threading.Timer) and t.is_alive()]
    for timer in timers:
        timer.cancel()
    return len(timers)
