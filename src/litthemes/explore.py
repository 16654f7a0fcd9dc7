"""Notebook helpers: load what the workflow produced, and look things up in it.

The notebooks in ``notebooks/`` use only this module and the processed tables, so
they open instantly after the main job and never recompute a stage.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from litthemes.codebook import Codebook, agreement_reasons, load_codebook
from litthemes.config import Settings, load


def find_project(start: str | Path = ".") -> Path:
    """The nearest folder at or above ``start`` holding config/config.yaml."""
    here = Path(start).resolve()
    for folder in (here, *here.parents):
        if (folder / "config" / "config.yaml").exists():
            return folder
    raise FileNotFoundError(f"no config/config.yaml at or above {here}; run the notebooks inside the project")


@dataclass
class Results:
    """Every table of a finished run, read lazily from disk."""

    root: Path
    settings: Settings
    codebook: Codebook
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def _path(self, kind: str, name: str) -> Path:
        base = {
            "interim": self.settings.interim_dir,
            "processed": self.settings.processed_dir,
            "trends": f"{self.settings.processed_dir}/trends",
        }[kind]
        return self.root / base / name

    def _parquet(self, kind: str, name: str) -> pd.DataFrame:
        key = f"{kind}/{name}"
        if key not in self._cache:
            path = self._path(kind, f"{name}.parquet")
            if not path.exists():
                raise FileNotFoundError(f"{path} is missing: run `snakemake --cores 2` in {self.root} first")
            self._cache[key] = pd.read_parquet(path)
        return self._cache[key]

    @property
    def records(self) -> pd.DataFrame:
        """All records read, with their status (included, duplicate, excluded)."""
        return self._parquet("interim", "records")

    @property
    def included(self) -> pd.DataFrame:
        return self.records[self.records["status"] == "included"].reset_index(drop=True)

    @property
    def flow(self) -> dict[str, Any]:
        return json.loads(self._path("interim", "flow.json").read_text(encoding="utf-8"))

    @property
    def segments(self) -> pd.DataFrame:
        return self._parquet("interim", "segments")

    @property
    def codes(self) -> pd.DataFrame:
        return self._parquet("processed", "codes")

    @property
    def dimensions(self) -> pd.DataFrame:
        return self._parquet("processed", "dimensions")

    @property
    def evidence(self) -> pd.DataFrame:
        return self._parquet("processed", "evidence")

    @property
    def topics(self) -> pd.DataFrame:
        return self._parquet("processed", "topics")

    @property
    def doc_topics(self) -> pd.DataFrame:
        return self._parquet("processed", "doc_topics")

    @property
    def topic_summary(self) -> dict[str, Any]:
        return json.loads(self._path("processed", "topic_summary.json").read_text(encoding="utf-8"))

    def trend(self, name: str) -> pd.DataFrame:
        """One of the trend tables (see litthemes.trends.run.TREND_TABLES)."""
        return self._parquet("trends", name)

    def agreement(self) -> dict[str, Any] | None:
        """How far to trust the coding: the codebook's measured agreement with a person's
        (main theme right, its 95% interval, precision, recall, on what) and whether it
        holds for this study's settings, with the reasons where it does not; None where the
        codebook carries no measurement (``litthemes codebook measure`` makes one)."""
        reasons = agreement_reasons(self.codebook, self.settings.model_dump(mode="json"))
        if reasons is None or self.codebook.agreement is None:
            return None
        return {**self.codebook.agreement.model_dump(mode="json"), "holds": not reasons, "reasons": reasons}

    def label(self, code_id: str) -> str:
        return self.codebook.code(code_id).label

    def coded_matrix(self, dimension: str = "theme") -> pd.DataFrame:
        """record x code presence (bool), with readable column labels."""
        table = self.codes if dimension == "theme" else self.dimensions[self.dimensions["dimension"] == dimension]
        wide = table.pivot_table(
            index="record_id", columns="theme", values="present", aggfunc="max", fill_value=False
        ).astype(bool)
        return wide.rename(columns=self.label)

    def quotes(self, theme: str, n: int = 5) -> pd.DataFrame:
        """The strongest evidence for a theme, with the record's citation fields."""
        ev = self.evidence[(self.evidence["theme"] == theme) & (self.evidence["rank"] == 1)]
        ev = ev.sort_values(["score", "record_id"], ascending=[False, True]).head(n)
        meta = self.records[["record_id", "authors", "year", "title", "doi"]]
        return ev.merge(meta, on="record_id")[
            ["score", "quote", "cue", "field", "start_char", "end_char", "authors", "year", "title", "doi"]
        ]

    def topic_records(self, topic: int, n: int = 10) -> pd.DataFrame:
        """Records of a topic, most typical first."""
        members = self.doc_topics[self.doc_topics["topic"] == topic].sort_values("probability", ascending=False)
        return members.head(n).merge(self.records[["record_id", "year", "title"]], on="record_id")


# The study a notebook opens when it names none (a config path; see open_results).
CONFIG_VARIABLE = "LITTHEMES_CONFIG"


def open_results(start: str | Path = ".", config: str | Path | None = None) -> Results:
    """Load the results of a run: of the study whose config is ``config`` (else the one
    the environment variable ``LITTHEMES_CONFIG`` names, else the project's own
    config/config.yaml), in the project that contains ``start``.

    A study's paths are relative to the folder Snakemake ran in; that folder is found as
    the first of the current folder, the project folder and the config's parent folders
    that holds the study's processed tables.
    """
    config = config or os.environ.get(CONFIG_VARIABLE) or None
    if config is None:
        root = find_project(start)
        settings = load(root / "config" / "config.yaml")
        return Results(root=root, settings=settings, codebook=load_codebook(root / settings.codebook))
    try:
        project: list[Path] = [find_project(start)]
    except FileNotFoundError:
        project = []
    config_path = Path(config)
    if not config_path.is_absolute():
        config_path = next(
            (base / config_path for base in [Path.cwd(), *project] if (base / config_path).exists()), config_path
        )
    if not config_path.exists():
        raise FileNotFoundError(f"no study config at {config_path}")
    settings = load(config_path)
    candidates = [Path.cwd(), *project, *config_path.resolve().parents]
    found = next((c for c in candidates if (c / settings.processed_dir).is_dir()), None)
    if found is None:
        raise FileNotFoundError(
            f"{settings.processed_dir} (from {config_path}) is under none of {[str(c) for c in candidates]}: "
            "run the workflow with this config first"
        )
    return Results(root=found, settings=settings, codebook=load_codebook(found / settings.codebook))
