"""Progress of long stages as a few milestone lines, for a console that a job's log does not reach.

Under Snakemake a job's output goes to its log file; ``litthemes --log FILE`` sends the
log there and keeps only warnings and these milestones on the console, so a long
embedding or topic fit shows that it moves without flooding the screen.
"""

from __future__ import annotations

import logging
import sys
import time

# Milestones go to this logger; the command line shows it on the console.
PROGRESS = logging.getLogger("litthemes.progress")


class Milestones:
    """Reports ``done`` of ``total`` on the progress logger at every ``step`` of the way."""

    def __init__(self, label: str, total: int, unit: str, step: float = 0.1, min_total: int = 1000) -> None:
        self.label, self.total, self.unit, self.step = label, total, unit, step
        self.enabled = total >= min_total
        self.done = 0
        self.next_mark = step
        self.started = time.monotonic()

    def update(self, count: int) -> None:
        """Add ``count`` finished items; log a line when a milestone is passed."""
        self.done += count
        if not self.enabled or self.done < self.next_mark * self.total:
            return
        while self.next_mark * self.total <= self.done:
            self.next_mark += self.step
        elapsed = time.monotonic() - self.started
        PROGRESS.info(
            "%s: %d%% (%s of %s %s, %.0f s)",
            self.label,
            round(100 * self.done / self.total),
            f"{self.done:,}",
            f"{self.total:,}",
            self.unit,
            elapsed,
        )


def setup_logging(verbose: bool = False, log_file: str | None = None) -> None:
    """Log to stderr; or, with ``log_file``, everything to that file and only warnings and
    progress milestones to stderr."""
    level = logging.DEBUG if verbose else logging.INFO
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    root = logging.getLogger()
    root.setLevel(level)
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(formatter)
    if not log_file:
        root.addHandler(console)
        return
    to_file = logging.FileHandler(log_file, mode="w", encoding="utf-8")
    to_file.setFormatter(formatter)
    root.addHandler(to_file)
    console.setLevel(logging.WARNING)
    root.addHandler(console)
    milestones = logging.StreamHandler(sys.stderr)
    milestones.setFormatter(logging.Formatter("%(message)s"))
    milestones.addFilter(lambda record: record.levelno < logging.WARNING)
    PROGRESS.addHandler(milestones)
