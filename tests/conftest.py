"""Shared fixtures. Tests that read ../shared/corpora skip when it is absent (a fresh clone)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workflow_helpers import make_project, run_snakemake

ROOT = Path(__file__).resolve().parents[1]
CORPORA = Path(os.environ.get("LITTHEMES_CORPORA", ROOT.parent / "shared" / "corpora"))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def corpora() -> Path:
    if not CORPORA.is_dir():
        pytest.skip(f"shared corpora not found at {CORPORA} (they sit beside the project in CI)")
    return CORPORA


@pytest.fixture(scope="session")
def embed_cache(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One embedding cache for the whole test session (tests re-embed the same texts)."""
    return str(tmp_path_factory.mktemp("embeddings"))


@pytest.fixture(scope="session")
def workflow_run(tmp_path_factory: pytest.TempPathFactory, embed_cache: str) -> Path:
    """The whole workflow, run once per test session on the small project."""
    work = make_project(tmp_path_factory.mktemp("workflow"), embed_cache)
    result = run_snakemake(work)
    assert result.returncode == 0, result.stderr[-4000:]
    return work
