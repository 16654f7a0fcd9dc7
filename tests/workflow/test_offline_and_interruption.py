"""Offline by default, and safe to kill: a SIGKILLed run reruns to the same tables."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workflow_helpers import make_project, offline_env, run_snakemake, snakemake_command

pytestmark = pytest.mark.slow


def tables(project: Path) -> dict[str, str]:
    paths = sorted((project / "data").rglob("*.parquet")) + sorted((project / "reports" / "tables").glob("*.csv"))
    paths += sorted((project / "reports" / "figures").glob("*.pdf"))
    paths = [p for p in paths if "cache" not in p.parts]
    return {str(p.relative_to(project)): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def test_the_network_blocker_works() -> None:
    probe = "import socket; socket.create_connection(('127.0.0.1', 9), timeout=1)"
    result = subprocess.run([sys.executable, "-c", probe], env=offline_env(), capture_output=True, text=True)
    assert result.returncode != 0 and "network access blocked" in result.stderr


def test_main_job_ran_with_the_network_blocked(workflow_run: Path) -> None:
    # workflow_run runs every job with network connections refused (see offline_env).
    assert (workflow_run / "reports" / "brief.html").exists()
    logs = "".join(p.read_text(errors="replace") for p in (workflow_run / "logs").glob("*.log"))
    assert "network access blocked" not in logs


def test_sigkill_mid_stage_then_rerun_gives_the_same_tables(
    workflow_run: Path, tmp_path: Path, embed_cache: str
) -> None:
    project = make_project(tmp_path / "killed", embed_cache)
    process = subprocess.Popen(
        snakemake_command(project),
        env=offline_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 600
    # Kill while the topic model is being fitted: the longest stage, with its outputs half done.
    while not (project / "logs" / "topics.log").exists() and time.time() < deadline and process.poll() is None:
        time.sleep(0.2)
    time.sleep(3)
    assert process.poll() is None, "the run finished before it could be interrupted"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not (project / "reports" / "brief.html").exists()
    # A killed Snakemake leaves its lock; --unlock is the documented first step after a crash.
    assert run_snakemake(project, "--unlock").returncode == 0
    result = run_snakemake(project)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "incomplete" in result.stderr.lower() or "Missing output" in result.stderr
    assert tables(project) == tables(workflow_run)
