"""The versioned codebook: schema, loading, hashing."""

from __future__ import annotations

import hashlib
import json
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from litthemes.config import (
    NOT_CODING_SETTINGS,
    CodeSettings,
    ConfigError,
    EmbedSettings,
    describe_errors,
    load_yaml,
)
from litthemes.versions import CODING_MODEL

# The dimension whose codes are the themes (the others describe credential types,
# stakeholders and settings).
THEME = "theme"


class Cues(BaseModel):
    """Lexical cues: terms/phrases (matched on lemmas) and spaCy token patterns.

    ``weak_terms`` are words and phrases that belong to a code but are too common to
    carry it alone (``employer``, ``assessment``, ``online``): each counts for
    ``code.weak_cue_weight`` of a term, so a passage needs two of them, or one and
    semantic support, to be coded with them alone.
    """

    model_config = ConfigDict(extra="forbid")
    terms: list[str] = Field(default_factory=list)
    weak_terms: list[str] = Field(default_factory=list)
    patterns: list[list[dict[str, Any]]] = Field(default_factory=list)


class Code(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    dimension: str
    group: str | None = None
    label: str
    definition: str
    colour: str = Field("#777777", pattern=r"^#[0-9A-Fa-f]{6}$")
    semantic: bool = True
    include: Cues = Field(default_factory=Cues)
    exclude: Cues = Field(default_factory=Cues)
    examples: list[str] = Field(default_factory=list)

    @field_validator("definition", "label")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()

    @property
    def prototypes(self) -> list[str]:
        """Texts that stand for the code in semantic matching."""
        return [self.definition, *self.examples]


class Agreement(BaseModel):
    """How the codebook's coding agreed with a person's on passages that person labelled
    before seeing the coder's output: measured by ``litthemes codebook measure`` (and
    ``benchmarks/validity.py`` for the shipped codebook) for the codes whose
    :attr:`Codebook.coding_fingerprint` it records, with the coding settings, embedding
    model and coding model it names. The brief quotes it while they still hold
    (:func:`agreement_reasons`)."""

    model_config = ConfigDict(extra="forbid")
    against: str = Field(description="The human coding it was measured against.")
    passages: int = Field(ge=1)
    main_theme: float = Field(ge=0, le=1, description="Share of passages whose main theme (rank 1) was the person's.")
    main_theme_interval: tuple[float, float] = Field(description="Its 95% bootstrap interval over passages.")
    precision: float = Field(ge=0, le=1, description="Of the themes coded present, the share the person labelled.")
    recall: float = Field(ge=0, le=1, description="Of the themes the person labelled, the share coded present.")
    coding_fingerprint: str = Field(description="Codebook.coding_fingerprint of the codes measured.")
    embedding_model: str = "all-MiniLM-L6-v2"
    coding_model: int = Field(
        CODING_MODEL, description="litthemes' coding model measured (litthemes.versions.CODING_MODEL)."
    )
    settings: dict[str, Any] = Field(
        default_factory=dict, description="The coding settings measured with that differ from litthemes' defaults."
    )

    def as_yaml(self) -> str:
        """The codebook's ``agreement:`` block, as it stands in a codebook file."""
        return yaml.safe_dump({"agreement": self.model_dump(mode="json")}, sort_keys=False, width=100)


class Codebook(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    version: str
    description: str = ""
    groups: dict[str, str] = Field(default_factory=dict)
    dimensions: dict[str, str]
    # Texts about the corpus as a whole. Semantic evidence for a theme is how much
    # closer a segment is to the theme than to the closest of these.
    background: list[str] = Field(default_factory=list)
    # Also count litthemes' generic research sentences ("Data were collected through
    # interviews.") as examples of no code, so that boilerplate is not coded.
    generic_background: bool = True
    codes: list[Code] = Field(min_length=1)
    agreement: Agreement | None = None
    source_hash: str = Field("", exclude=True)

    @model_validator(mode="after")
    def _consistent(self) -> Codebook:
        ids = [c.id for c in self.codes]
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            raise ValueError(f"code ids must be unique; repeated: {duplicated}")
        for code in self.codes:
            if code.dimension not in self.dimensions:
                raise ValueError(
                    f"code {code.id!r}: dimension {code.dimension!r} is not one of {sorted(self.dimensions)}"
                )
            if code.dimension == THEME and code.group not in self.groups:
                raise ValueError(f"code {code.id!r}: group {code.group!r} is not one of {sorted(self.groups)}")
            if not (code.include.terms or code.include.weak_terms or code.include.patterns or code.semantic):
                raise ValueError(f"code {code.id!r}: has no inclusion cues and semantic matching is off")
            if code.exclude.weak_terms:
                raise ValueError(f"code {code.id!r}: exclusion cues take terms and patterns, not weak_terms")
        if THEME not in self.dimensions:
            raise ValueError("dimensions must include 'theme'")
        return self

    @cached_property
    def themes(self) -> list[Code]:
        return [c for c in self.codes if c.dimension == THEME]

    def by_dimension(self, dimension: str) -> list[Code]:
        return [c for c in self.codes if c.dimension == dimension]

    def code_id(self, name: str) -> str | None:
        """The id of the code named ``name`` (its id or its label, in any case); None if none."""
        folded = name.lower()
        return next((c.id for c in self.codes if folded in (c.id, c.label.lower())), None)

    def code(self, code_id: str) -> Code:
        for code in self.codes:
            if code.id == code_id:
                return code
        raise KeyError(code_id)

    @property
    def none_examples(self) -> list[str]:
        """Texts that stand for "none of the codes": the background, and the generic
        research sentences unless ``generic_background`` is off."""
        return [*self.background, *(generic_sentences() if self.generic_background else [])]

    @property
    def coding_fingerprint(self) -> str:
        """A hash of what coding depends on (dimensions, background texts, codes), not of
        the name, version, description, groups or the agreement measured: an edit that
        changes how passages are coded changes it, a new description does not."""
        return self._hash_of({"dimensions": True, "background": True, "generic_background": True, "codes": True})

    @property
    def semantic_fingerprint(self) -> str:
        """A hash of what coding depends on besides the cues' matches: the codes, their
        dimensions and the texts the semantic model learns from (definitions, examples,
        background). A codebook edit that changes terms, patterns, labels or colours only
        leaves it as it was, so records whose matches did not change keep their coding."""
        return self._hash_of(
            {
                "background": True,
                "generic_background": True,
                "codes": {"__all__": {"id", "dimension", "definition", "semantic", "examples"}},
            }
        )

    def _hash_of(self, include: dict[str, Any]) -> str:
        content = self.model_dump(mode="json", include=include)
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]

    @property
    def stamp(self) -> str:
        return f"{self.name} v{self.version} ({self.source_hash[:12]})"


@lru_cache(maxsize=1)
def generic_sentences() -> list[str]:
    """The generic research sentences shipped with litthemes (code/resources/generic_sentences.txt)."""
    path = Path(__file__).parent / "code" / "resources" / "generic_sentences.txt"
    return [
        line.strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]


def codebook_json_schema() -> dict[str, Any]:
    """JSON schema of a codebook file, for Snakemake's ``validate()`` and editors."""
    schema = Codebook.model_json_schema()
    schema["properties"].pop("source_hash", None)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def changed_coding_settings(code: dict[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
    """The code settings in ``code`` that change how passages are coded and differ from
    ``reference`` (caches, quotes kept and training options left out)."""
    return {k: v for k, v in code.items() if k in reference and k not in NOT_CODING_SETTINGS and v != reference[k]}


def agreement_reasons(book: Codebook, settings: dict[str, Any]) -> list[str] | None:
    """Why the codebook's measured agreement does not hold for a run with these settings
    (a run's config as a dict; empty: it holds): the codes edited since, other coding
    settings than those it was measured with (the defaults, unless it names others), or
    another embedding model. None without a measurement, or when the coder is trained on
    human codes (its own cross-validation is what to report)."""
    measured = book.agreement
    code = settings.get("code") or {}
    if measured is None or code.get("training"):
        return None
    reasons = []
    if measured.coding_fingerprint != book.coding_fingerprint:
        reasons.append("the codes have been edited since it was measured")
    if measured.coding_model != CODING_MODEL:
        reasons.append(f"it was measured with litthemes' coding model {measured.coding_model}, this is {CODING_MODEL}")
    changed = sorted(changed_coding_settings(code, CodeSettings().model_dump() | measured.settings))
    if changed:
        reasons.append("this run changes " + ", ".join(f"code.{k}" for k in changed))
    model = (settings.get("embed") or {}).get("model", EmbedSettings().model)
    if model != measured.embedding_model:
        reasons.append(f"this run embeds with {model}, not {measured.embedding_model}")
    return reasons


def write_agreement(path: str | Path, agreement: Agreement) -> None:
    """Put ``agreement`` into the codebook file at ``path`` as its top-level ``agreement:``
    block, replacing the one there (the rest of the file, comments included, is kept)."""
    path = Path(path)
    block = agreement.as_yaml()
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.startswith("agreement:")), None)
    if start is None:
        text = "".join(lines).rstrip("\n") + "\n" + block
    else:
        # The block runs to the next top-level key or comment (a line that does not start indented).
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].strip() and not lines[i][0].isspace()), len(lines)
        )
        text = "".join(lines[:start]) + block + "".join(lines[end:])
    _validated(text.encode("utf-8"), path)  # never leave a codebook that does not load
    path.write_text(text, encoding="utf-8")


def load_codebook(path: str | Path) -> Codebook:
    """Load and validate a codebook; errors name the code and the key."""
    return _validated(Path(path).read_bytes(), path)


def _validated(raw: bytes, path: str | Path) -> Codebook:
    try:
        data = load_yaml(raw) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"codebook {path}: not valid YAML ({exc})") from None
    if isinstance(data, dict):
        # Name the code, not only its position, in error messages.
        for i, code in enumerate(data.get("codes") or []):
            if isinstance(code, dict) and "id" in code:
                data.setdefault("_ids", {})[i] = code["id"]
        ids = data.pop("_ids", {})
    else:
        ids = {}
    try:
        book = Codebook.model_validate(data)
    except ValidationError as exc:
        text = describe_errors(exc)
        for i, code_id in ids.items():
            text = text.replace(f"codes.{i}.", f"codes.{i} ({code_id}).")
        raise ConfigError(f"invalid codebook {path}:\n{text}") from None
    book.source_hash = hashlib.sha256(raw).hexdigest()
    return book
