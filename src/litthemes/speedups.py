"""The one place where litthemes reaches into other libraries to start jobs faster.

A rerun after a small change is a dozen short jobs, each a new Python process, and
what a job imports and compiles before it works is much of its time:

- spaCy imports thinc, which imports torch whenever it is installed, although only
  transformer pipelines use it;
- BERTopic imports sentence-transformers, transformers and spaCy for back-ends and
  representations litthemes does not use;
- umap-learn compiles its numba functions in every process that runs UMAP, and does
  not let numba keep them.

:func:`import_spacy` and :func:`import_bertopic` import those libraries with the
unused modules hidden (``sys.modules`` entries set to None, so the library marks that
option unavailable); :func:`cache_umap_compilation` turns on numba's own disk cache
for umap's functions (numba internals). Each keeps results the same (a test compares
the tables), and each depends on how these libraries are built, which is why
pyproject.toml caps their versions (spacy, bertopic, umap-learn, numba).

Switch: set the environment variable ``LITTHEMES_SPEEDUPS=0`` and every helper here
does a plain import and nothing else; runs are then slower to start and give the same
tables.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

log = logging.getLogger(__name__)


def enabled() -> bool:
    """Whether the helpers here may touch other libraries (``LITTHEMES_SPEEDUPS`` not 0/off/false)."""
    return os.environ.get("LITTHEMES_SPEEDUPS", "1").strip().lower() not in {"0", "off", "false", "no"}


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
    if not enabled() or any(importlib.util.find_spec(package) is not None for package in unless):
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
    torch's CPU operators ran many times slower (docs/performance.md): two OpenMP
    runtimes competing for the cores. A process that fits UMAP and then embeds text (the topic fit, through
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
    (``@numba.njit("i4(i8[:])")``) in every process that imports umap,
    this being the process's first numba compilation. numba caches a function only
    when its decorator asks, so while umap is imported, ``numba.njit`` asks for it
    wherever a signature is given. Functions compiled lazily are left to
    :func:`cache_umap_compilation`.
    """
    if "umap" in sys.modules:
        return sys.modules["umap"]
    if not enabled():
        return importlib.import_module("umap")
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
    if _UMAP_CACHED or not enabled():
        return
    _UMAP_CACHED = True  # once a process: where caching fails, it fails again
    import_umap()
    from numba.core.caching import NullCache
    from numba.core.dispatcher import Dispatcher

    modules = [
        module
        for key, module in list(sys.modules.items())
        if module is not None and (key == "umap" or key.startswith("umap."))
    ]
    dispatchers = {
        id(value): value for module in modules for value in list(vars(module).values()) if isinstance(value, Dispatcher)
    }
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
