"""``litthemes init``: a study folder that holds everything one study reads and writes.

The folder gets a config (every output folder, the logs and the caches inside it,
every key with its description as a comment), a codebook template (or, later, a
codebook drafted from the topics: ``litthemes codebook draft``), the exports given,
and a README of next steps. Two studies side by side never touch each other's files.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from litthemes.config import Settings

# Settings a new study starts without: those of the bundled micro-credentials study.
NEUTRAL = {"study": "", "ingest.openalex.query": "", "topics.extra_stop_words": []}


def _scalar(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def commented_yaml(model: BaseModel, indent: int = 0) -> str:
    """``model`` as YAML with each field's description as a comment above it."""
    pad = " " * indent
    lines: list[str] = []
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        description = field.description
        if isinstance(value, BaseModel):
            description = description or (type(value).__doc__ or "").strip().split("\n")[0]
            if lines:
                lines.append("")
        if description:
            lines.append(f"{pad}# {description}")
        if isinstance(value, BaseModel):
            lines.append(f"{pad}{name}:")
            lines.append(commented_yaml(value, indent + 2))
        elif isinstance(value, list) and value and not all(isinstance(v, str | int | float) for v in value):
            lines.append(f"{pad}{name}:")
            lines.extend(f"{pad}  - {_scalar(v)}" for v in value)
        else:
            lines.append(f"{pad}{name}: {_scalar(value)}")
    return "\n".join(lines)


def _set(settings: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, key = dotted.split(".")
    for parent in parents:
        settings = settings[parent]
    settings[key] = value


def study_settings(folder: str, study: str, inputs: list[str]) -> Settings:
    """The settings of a new study in ``folder`` (as the user will pass it to Snakemake)."""
    base = folder.rstrip("/") or "."
    settings = Settings.model_validate({"inputs": inputs or [f"{base}/exports"]}).model_dump(mode="json")
    for key, value in {**NEUTRAL, "study": study, "report.title": f"{study}: what the literature says"}.items():
        _set(settings, key, value)
    paths = {
        "codebook": "codebook.yaml",
        "interim_dir": "data/interim",
        "processed_dir": "data/processed",
        "reports_dir": "reports",
        "logs_dir": "logs",
        "ingest.cache_dir": "cache/ingest",
        "ingest.openalex.cache_dir": "cache/openalex",
        "segment.cache_dir": "cache/segments",
        "embed.cache_dir": "cache/embeddings",
        "code.cache_dir": "cache/codes",
    }
    for key, relative in paths.items():
        _set(settings, key, f"{base}/{relative}")
    return Settings.model_validate(settings)


def _copy_exports(exports: list[str], target: Path) -> list[str]:
    """Copy exports (files or folders) into ``target``; the copies' names."""
    target.mkdir(parents=True, exist_ok=True)
    names = []
    for export in exports:
        source = Path(export)
        if not source.exists():
            raise FileNotFoundError(f"{export}: no such file or folder")
        destination = target / source.name
        if destination.exists():
            raise FileExistsError(f"{destination} exists already: two exports with the name {source.name!r}")
        if source.is_dir():
            shutil.copytree(source, destination)
        else:
            shutil.copy2(source, destination)
        names.append(source.name)
    return names


NEXT_STEPS = """# Study {study}

Made by `litthemes init`. Run every command from the folder `init` ran in.

1. Put your exports (Scopus, Web of Science, RIS, BibTeX, OpenAlex JSON, CSV, PDFs)
   into `{folder}/exports/`, or list them under `inputs:` in `{folder}/config.yaml`.
2. Run the workflow: every output, log and cache goes inside `{folder}/`.

       snakemake --cores 2 --configfile {folder}/config.yaml

   (from the litthemes project folder; elsewhere add `-s PATH/TO/litthemes/Snakefile`).
   The brief is `{folder}/reports/brief.html`. The console warns when the codebook
   does not fit the corpus.
3. Draft a codebook from the topics the first run found, edit it, and use it:

       litthemes codebook draft --config {folder}/config.yaml --out {folder}/codebook.draft.yaml

   Edit labels, definitions, cues and examples, rename the file to `codebook.yaml`
   (or point `codebook:` in the config at it), bump its version, and run step 2 again.
4. Measure the codebook against a person: label 50-100 passages with a main theme and
   the others present (a CSV with text, main, others), from the definitions and before
   looking at the coder's output, then

       litthemes codebook measure labelled.csv --codebook {folder}/codebook.yaml --config {folder}/config.yaml --write

   The brief quotes the figures while the codes and settings stay as measured.
5. Explore the results in Jupyter:

       LITTHEMES_CONFIG={folder}/config.yaml jupyter lab notebooks/
"""


def init_study(
    folder: str, exports: list[str] | None = None, study: str | None = None, force: bool = False
) -> list[Path]:
    """Create the study folder ``folder``; returns the files written."""
    root = Path(folder)
    config_path, codebook_path, readme_path = root / "config.yaml", root / "codebook.yaml", root / "README.md"
    existing = [p for p in (config_path, codebook_path) if p.exists()]
    if existing and not force:
        raise FileExistsError(f"{existing[0]} exists already (give --force to overwrite the study's config)")
    name = study or root.resolve().name
    root.mkdir(parents=True, exist_ok=True)
    copied = _copy_exports(list(exports or []), root / "exports")
    inputs = [f"{folder.rstrip('/')}/exports/{name_}" for name_ in copied]
    settings = study_settings(folder, name, inputs)
    header = (
        f"# litthemes configuration of the study {name!r}, made by `litthemes init`.\n"
        "# Every key is validated at start; paths are relative to the folder Snakemake runs in.\n\n"
    )
    config_path.write_text(header + commented_yaml(settings) + "\n", encoding="utf-8")
    template = resources.files("litthemes").joinpath("resources/codebook-template.yaml").read_text(encoding="utf-8")
    codebook_path.write_text(template.replace("name: STUDY", f"name: {_scalar(name)}"), encoding="utf-8")
    readme_path.write_text(NEXT_STEPS.format(study=name, folder=folder.rstrip("/")), encoding="utf-8")
    (root / "exports").mkdir(exist_ok=True)
    return [config_path, codebook_path, readme_path]
