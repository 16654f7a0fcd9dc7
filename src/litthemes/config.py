"""The one validated configuration of a litthemes run.

The pydantic models below are the single source of truth: the JSON schema that
the Snakefile validates against (``workflow/schemas/config.schema.yaml``) is
generated from them by ``litthemes schema`` and a test keeps the two in step.
Each stage receives only its own section, through Snakemake ``params:``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DedupSettings(_Section):
    """How duplicate records are found."""

    title_threshold: float = Field(
        93.0, ge=50, le=100, description="Minimum rapidfuzz ratio (0-100) of normalised titles."
    )
    year_tolerance: int = Field(1, ge=0, le=5, description="Years two duplicates may differ by.")


class ScreeningSettings(_Section):
    """Rules that mark records as excluded (never deleted)."""

    year_min: int | None = Field(None, description="Exclude records published before this year.")
    year_max: int | None = Field(None, description="Exclude records published after this year.")
    exclude_doc_types: list[str] = Field(
        default_factory=list, description="Normalised document types to exclude (e.g. erratum)."
    )
    languages: list[str] = Field(
        default_factory=list,
        description="ISO 639-1 codes to keep; empty keeps all. Records with unknown language are kept.",
    )
    include_terms: list[str] = Field(
        default_factory=list,
        description="If given, a record must mention one of these (title/abstract/keywords).",
    )
    exclude_terms: list[str] = Field(
        default_factory=list, description="Exclude records whose title/abstract mention one of these."
    )
    require_abstract: bool = Field(False, description="Exclude records that have neither an abstract nor a full text.")


class OpenAlexSettings(_Section):
    """Online OpenAlex access: off unless a user switches it on."""

    search: bool = Field(False, description="Run the OpenAlex search below and ingest its results.")
    enrich_dois: bool = Field(
        False, description="Fill missing abstracts/years/venues/keywords of DOI records from OpenAlex."
    )
    query: str = Field(
        '"micro-credential" OR "micro-credentials" OR "microcredential" OR "digital badges" OR "open badges"',
        description="OpenAlex search expression.",
    )
    email: str = Field("", description="E-mail for OpenAlex's polite pool (recommended).")
    max_records: int = Field(1000, ge=1, le=100000, description="Stop the search after this many.")
    cache_dir: str = Field("data/cache/openalex", description="On-disk response cache.")


class IngestSettings(_Section):
    """Reading, cleaning, de-duplicating and screening."""

    formats: dict[str, str] = Field(
        default_factory=dict,
        description="Per-file reader override: path -> format (see `litthemes formats`).",
    )
    column_map: dict[str, str] = Field(
        default_factory=dict,
        description="Generic CSV/TSV/XLSX: canonical field -> column name in the file.",
    )
    dedup: DedupSettings = Field(default_factory=DedupSettings)
    screening: ScreeningSettings = Field(default_factory=ScreeningSettings)
    openalex: OpenAlexSettings = Field(default_factory=OpenAlexSettings)
    cache_dir: str = Field(
        "data/cache/ingest",
        description="Each file's records as read and normalised, keyed by its path, content and reader settings, "
        "so adding a file reads only that file ('' = off).",
    )


class SegmentSettings(_Section):
    """spaCy processing and segmentation."""

    model: str = Field(
        "auto",
        description="'auto' (trained English pipeline if installed, else blank), 'blank', or a spaCy pipeline name.",
    )
    batch_size: int = Field(256, ge=1, le=100000, description="Texts per nlp.pipe batch.")
    max_segment_chars: int = Field(
        1200, ge=100, le=100000, description="Longer sentences/paragraphs are split at this length."
    )
    cache_dir: str = Field(
        "data/cache/segments", description="Per-record cache of segments, keyed by record content ('' = off)."
    )


class EmbedSettings(_Section):
    """Sentence embeddings shared by semantic coding and topics."""

    model: str = Field(
        "all-MiniLM-L6-v2",
        description="'all-MiniLM-L6-v2' (offline package) or any sentence-transformers name/path.",
    )
    device: Literal["cpu", "cuda", "auto"] = Field("cpu", description="Where to run the model.")
    batch_size: int = Field(
        4,
        ge=1,
        le=4096,
        description="Fewest rows per encoder pass; each pass has a fixed row count so that embeddings "
        "do not depend on which texts share it.",
    )
    batch_tokens: int = Field(
        512,
        ge=1,
        le=1_000_000,
        description="Shorter texts get more rows per pass: max(batch_size, batch_tokens // padded length) "
        "(part of the cache key).",
    )
    length_step: int = Field(
        8,
        ge=1,
        le=512,
        description="Texts are padded to their token length rounded up to a multiple of this (part of the cache key).",
    )
    precision: Literal["auto", "float32", "bfloat16"] = Field(
        "auto",
        description="Arithmetic of the encoder on a CPU. 'auto': bfloat16 where the CPU has it natively "
        "(AVX-512 BF16 or AMX; cosine to float32 above 0.9999), float32 elsewhere "
        "and on GPUs (part of the cache key).",
    )
    encoder: Literal["auto", "sentence-transformers"] = Field(
        "auto",
        description="'auto': BERT models with mean pooling (the default model among them) run on a light "
        "encoder that starts sooner than sentence-transformers and agrees with it to rounding; "
        "other models use sentence-transformers (part of the cache key).",
    )
    cache_dir: str = Field("data/cache/embeddings", description="Embedding cache (text hash x model; '' = off).")
    progress: bool = Field(True, description="Show a progress bar on long runs.")
    documents: Literal["segments", "text"] = Field(
        "segments",
        description="Document embedding for topics: mean of its segments (no extra encoder pass), or its own text.",
    )


# The embedding settings that decide a vector's bits (and where vectors are cached):
# every stage that embeds text (coding's prototypes, topic terms, topic alignment)
# gets all of them, so its cache keys change whenever the embedding stage's do.
EMBED_VECTOR_KEYS = (
    "model",
    "device",
    "encoder",
    "cache_dir",
    "batch_size",
    "batch_tokens",
    "length_step",
    "precision",
)


# Code settings that do not change how a passage is coded (caches, quotes kept, and the
# training options, which a coder without human codes does not use).
NOT_CODING_SETTINGS = frozenset(
    {"cache_dir", "evidence_per_code", "training", "training_folds", "training_sequence", "tune_epochs"}
)


class CodeSettings(_Section):
    """Deductive coding with the codebook (see litthemes.code for the model)."""

    lexical_weight: float = Field(
        0.6, ge=0, le=1, description="Weight of lexical evidence in a segment's 0-1 score; semantic gets the rest."
    )
    weak_cue_weight: float = Field(
        0.5, ge=0, le=1, description="What a weak term (and a term after a negation) counts for; a term counts 1."
    )
    semantic_weight: float = Field(
        2.0,
        ge=0,
        le=100,
        description="Weight of the semantic probability against cue counts in a segment's evidence, "
        "from which salience and rank follow.",
    )
    semantic_c: float = Field(
        16.0,
        gt=0,
        le=10000,
        description="Inverse regularisation strength (scikit-learn's C) of the semantic classifier fitted on the "
        "codebook's prototypes.",
    )
    semantic_min_similarity: float = Field(
        0.25,
        ge=-1,
        le=1,
        description="Cosine similarity to the codebook's closest prototype (a definition or example) below which a "
        "segment gets no theme evidence (semantic probability and cues alike), rising to full over the next 0.1. Far "
        "from every text the classifier was fitted on (a sentence of another literature), its probabilities are an "
        "extrapolation and a theme's cue is another sense of the word.",
    )
    semantic_threshold: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Semantic probability at which a segment is coded without a cue (its most likely code only).",
    )
    semantic_only_min_similarity: float = Field(
        0.5,
        ge=-1,
        le=1,
        description="Cosine similarity to the closest definition or example of a code that a segment needs to be "
        "coded with it without a cue (codes learnt from human codes always pass). Most sentences of the literature "
        "a codebook describes are as close; a sentence of another literature is coded only through its cues.",
    )
    present_threshold: float = Field(0.5, ge=0, le=1, description="Score a segment with a cue needs to carry the code.")
    min_share: float = Field(
        0.2,
        ge=0,
        le=1,
        description="Share of a segment's theme evidence a theme needs to be coded there: a passing mention "
        "in a passage about something else is not coded.",
    )
    first_segment_weight: float = Field(
        1.5,
        ge=1,
        le=10,
        description="How much a record's first segment (its title, or its opening sentence) counts in its salience.",
    )
    main_min_evidence: float = Field(
        1.0,
        ge=0,
        le=100,
        description="Evidence (cue count + weighted probability, summed over the segments near the codebook) at "
        "which a record's main theme is coded even where no single segment carries it.",
    )
    training: str = Field(
        "",
        description="Human-coded passages to learn from (CSV with unit, text and code columns, a REFI-QDA .qdpx, "
        "or a folder of {{code}}-annotated texts); '' uses the codebook's prototypes only.",
    )
    training_folds: int = Field(
        5, ge=2, le=20, description="Folds of the cross-validation reported for the training set."
    )
    training_sequence: float = Field(
        0.0,
        ge=0,
        le=5,
        description="Weight of the order of codes learnt from the human codes (which code follows which within a "
        "document, as in an abstract's background, objective, method, result): above 0, each record's passages are "
        "coded together as its most likely sequence of codes; 0 codes every passage on its own. For codebooks whose "
        "codes follow a text's structure; needs code.training.",
    )
    tune_epochs: int = Field(
        0,
        ge=0,
        le=20,
        description="Epochs of fine-tuning the sentence encoder on the human codes before the classifier is fitted "
        "(needs code.training; 0 = the encoder as it is). The tuned encoder then embeds the corpus's segments once "
        "more (cached); on 2 CPU cores an epoch takes about 45 s per 1,000 passages, and the cross-validation tunes "
        "once per fold.",
    )
    evidence_per_code: int = Field(3, ge=1, le=50, description="Quotes kept per record and code.")
    cache_dir: str = Field(
        "data/cache/codes",
        description="Per-record cache of segment codes, keyed by record segments, codebook and settings ('' = off).",
    )


class TopicSettings(_Section):
    """Inductive topic discovery."""

    method: Literal["bertopic", "nmf"] = Field("bertopic", description="Primary topic model.")
    min_topic_size: int | Literal["auto"] = Field(
        "auto", description="'auto' grows with corpus size (sqrt(n)/2.5, at least 5)."
    )
    n_neighbors: int = Field(15, ge=2, le=200, description="UMAP neighbours.")
    n_components: int = Field(5, ge=2, le=100, description="UMAP dimensions.")
    cluster_selection: Literal["leaf", "eom"] = Field(
        "leaf",
        description="HDBSCAN's cluster selection. 'eom' (BERTopic's default) now and then merges most "
        "documents into one or two clusters; 'leaf' did not in 15 fits (3 sizes x 5 seeds) of the benchmark corpus.",
    )
    neighbors: Literal["auto", "exact", "approximate"] = Field(
        "auto",
        description="UMAP's neighbour graph: exact (one matrix product per chunk), or UMAP's own "
        "approximate search; 'auto' is exact up to 50,000 documents.",
    )
    seed: int = Field(42, description="Seed for UMAP, NMF and sampling.")
    reduce_outliers: bool = Field(True, description="Reassign HDBSCAN outliers to topics.")
    nmf_topics: int | Literal["auto"] = Field("auto", description="Topics for NMF ('auto': like BERTopic's count).")
    emergent_threshold: float = Field(
        0.3, ge=0, le=1, description="A topic whose best theme alignment is below this is emergent."
    )
    stability_runs: int = Field(3, ge=1, le=20, description="Refits with other seeds for stability.")
    stability_threshold: float = Field(
        0.5, ge=0, le=1, description="Mean best-match Jaccard below which a topic is unstable."
    )
    top_terms: int = Field(10, ge=3, le=50, description="Terms kept per topic.")
    frozen_model: str = Field(
        "",
        description="Empty: fit topics on this corpus. A topic_model.parquet saved by an earlier run: "
        "assign records to its topics instead (fitted records keep theirs, new ones take the closest).",
    )
    extra_stop_words: list[str] = Field(
        default_factory=list,
        description="Lemmas left out of topic terms: words every document of this corpus shares.",
    )


class TrendSettings(_Section):
    """Statistics over the coding."""

    covid_split_year: int = Field(2020, description="First year of the 'from COVID-19' period.")
    min_records_per_year: int = Field(
        5, ge=1, description="Years with fewer records get no interval and are flagged in captions."
    )
    alpha: float = Field(0.05, gt=0, lt=0.5, description="Significance level after FDR correction.")
    bootstrap: int = Field(1000, ge=100, le=100000, description="Bootstrap resamples where used.")
    seed: int = Field(7, description="Seed for bootstrap and permutation.")


class FigureSettings(_Section):
    """Figures."""

    dpi: int = Field(300, ge=72, le=1200, description="PNG resolution.")
    formats: list[Literal["png", "svg", "pdf"]] = Field(
        default_factory=lambda: ["png", "pdf"],  # type: ignore[arg-type]
        description="File formats written per figure. The workflow writes PNG and PDF in any case: the HTML "
        "brief embeds the PNGs and the PDF brief places the PDFs. Add svg for an SVG of each figure.",
    )
    max_labels: int = Field(16, ge=4, le=100, description="Most categories labelled on one axis.")


# What the two briefs are made from: the HTML embeds each figure's PNG, the PDF places its PDF page.
BRIEF_FIGURE_FORMATS = ("png", "pdf")


def figure_formats(configured: list[str]) -> list[str]:
    """The formats the workflow draws: the configured ones, then those the briefs need."""
    return list(dict.fromkeys([*configured, *BRIEF_FIGURE_FORMATS]))


class ReportSettings(_Section):
    """The policy brief."""

    title: str = Field(
        "Micro-credentials, digital badges and Open Badges: what the literature says",
        description="Title of the brief.",
    )
    findings: int = Field(6, ge=1, le=30, description="Key findings in the executive summary.")
    quotes_per_theme: int = Field(3, ge=0, le=20, description="Evidence quotes shown per theme.")


class Settings(_Section):
    """Top level of ``config/config.yaml``."""

    study: str = Field("microcredentials", description="Short name of the study, stamped on outputs.")
    inputs: list[str] = Field(..., min_length=1, description="Export files or folders to ingest.")
    codebook: str = Field("config/codebook.yaml", description="Codebook YAML.")
    interim_dir: str = Field("data/interim", description="Intermediate tables.")
    processed_dir: str = Field("data/processed", description="Tables the notebooks read.")
    reports_dir: str = Field("reports", description="Figures, tables and the brief.")
    logs_dir: str = Field("logs", description="Each job's log, and its benchmark file under benchmarks/.")
    shards: int = Field(
        1,
        ge=1,
        le=4096,
        description="Record shards for segment, embed and code (parallel jobs); tables are identical for any count.",
    )
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    segment: SegmentSettings = Field(default_factory=SegmentSettings)
    embed: EmbedSettings = Field(default_factory=EmbedSettings)
    code: CodeSettings = Field(default_factory=CodeSettings)
    topics: TopicSettings = Field(default_factory=TopicSettings)
    trends: TrendSettings = Field(default_factory=TrendSettings)
    figures: FigureSettings = Field(default_factory=FigureSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the key and what is allowed."""


def describe_errors(exc: ValidationError, prefix: str = "") -> str:
    """Turn pydantic errors into lines 'key.path: problem (got value)'."""
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"])
        got = err.get("input")
        detail = err["msg"]
        if err["type"] == "extra_forbidden":
            detail = "unknown key (check spelling; see config/config.yaml for allowed keys)"
        lines.append(f"{prefix}{key}: {detail} (got {got!r})")
    return "\n".join(lines)


def validate(data: dict[str, Any], source: str = "config") -> Settings:
    """Validate a config mapping, raising :class:`ConfigError` naming every bad key."""
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"invalid {source}:\n" + describe_errors(exc)) from None


# libyaml's safe loader where PyYAML was built with it: the same documents, parsed
# faster (most jobs read the codebook).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(source: str | bytes | Any) -> Any:
    """``yaml.safe_load`` with the C loader when there is one."""
    return yaml.load(source, Loader=_YAML_LOADER)


def load(path: str | Path) -> Settings:
    """Load and validate a YAML config file."""
    with open(path, encoding="utf-8") as fh:
        data = load_yaml(fh) or {}
    return validate(data, str(path))


def section(settings: BaseModel) -> dict[str, Any]:
    """A plain dict of one section, as passed through Snakemake ``params:``."""
    return settings.model_dump(mode="json")


def json_schema() -> dict[str, Any]:
    """JSON schema of :class:`Settings` for Snakemake's ``validate()``."""
    schema = Settings.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
