"""Content-keyed caches of per-record results, so that adding records processes only those.

A :class:`RecordCache` holds the rows a stage produced for each record, under a key
made from the record's content; its folder is named after everything else the result
depends on (settings, codebook, package version). Files are added atomically, so
shards can fill one cache side by side and a killed job leaves no half-written file.
Every run that computes something adds a file, and every lookup reads them all, so
once a folder holds more than :data:`MAX_PARTS` files the job that adds one merges
the smallest (see :func:`compact`). Deleting a cache folder only costs time.

Every lookup also marks what it used (:func:`mark_used`), so that ``litthemes cache
prune`` can remove what no run has needed for a while: the coding of an earlier
codebook version, vectors of a model no longer configured, an export file as it was
before it changed (:func:`find_entries`, :func:`prune`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from litthemes import __version__
from litthemes.tables import atomic_path

if TYPE_CHECKING:
    from litthemes.config import Settings

log = logging.getLogger(__name__)

KEY = "_record_key"
# The folder of a code cache that holds the encoders tuned on human codes.
ENCODERS = "encoders"
# A folder's smallest part files are merged when a job's own part makes more than this.
# A codebook edited daily adds one part per shard each time, and every coding job reads
# every part: after a few hundred edits the reading would cost more than the coding.
MAX_PARTS = 8

T = TypeVar("T")


def mark_used(path: Path) -> None:
    """Note that a cache entry (a folder of part files, or a file) was just used: its
    modification time is what :func:`prune` goes by."""
    # A read-only cache still serves its entries; it just cannot be pruned by age.
    with contextlib.suppress(OSError):
        os.utime(path)


def part_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("part-*.parquet"))


def read_parts(directory: Path, read: Callable[[list[Path]], T]) -> T:
    """``read(parts)`` over a folder's part files; again from the start if another job
    merged some of them away meanwhile (the merged file holds the same rows). The
    folder is marked used (:func:`mark_used`)."""
    mark_used(directory)
    for _ in range(5):
        try:
            return read(part_files(directory))
        except FileNotFoundError:
            continue
    return read(part_files(directory))


def compact(directory: Path, key: str, max_parts: int = MAX_PARTS) -> bool:
    """Merge a folder's smallest part files into one when there are more than ``max_parts``.

    Enough of the smallest parts are merged to leave half the limit, so the large parts
    of a first run are left as they are and merging costs about what the merged parts
    hold (the increments of later runs). A key's rows are taken from the first merged
    part (in name order) that holds it; rows stored under one key are the same in every
    part, as a key names everything they depend on. The merged file is in place before
    the parts it replaces are deleted, so a reader never misses a key; parts that other
    jobs add meanwhile are left alone, and of two jobs merging at once the later finds
    its parts gone and stops. Returns whether this call merged.
    """
    parts = part_files(directory)
    if len(parts) <= max_parts:
        return False
    tables: list[pa.Table] = []
    seen: set[str] = set()
    try:
        by_size = sorted(parts, key=lambda part: (part.stat().st_size, part.name))
        chosen = sorted(by_size[: len(parts) - max_parts // 2 + 1])
        for part in chosen:
            table = pq.read_table(part)
            part_keys = set(table.column(key).to_pylist())
            fresh = part_keys - seen
            if fresh != part_keys:
                table = table.filter(pc.is_in(table.column(key), value_set=pa.array(sorted(fresh), pa.string())))
            seen |= fresh
            tables.append(table.replace_schema_metadata(None))
    except FileNotFoundError:
        return False
    merged = pa.concat_tables(tables).combine_chunks()
    target = directory / f"part-{content_key('merged', sorted(seen))[:20]}.parquet"
    with atomic_path(target) as tmp:
        pq.write_table(merged, tmp, compression="zstd")
    for part in chosen:
        if part != target:
            part.unlink(missing_ok=True)
    log.info("cache %s: %d part files merged into one", directory, len(chosen))
    return True


def content_key(*parts: Any) -> str:
    """A stable key for a record's content (any JSON-serialisable parts)."""
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode("utf-8")).hexdigest()


class RecordCache:
    """Rows of one table, grouped by record content key, under ``root/<stage>/<namespace hash>``."""

    def __init__(self, root: str | Path, stage: str, schema: pa.Schema, namespace: dict[str, Any]) -> None:
        self.schema = schema
        namespace = {**namespace, "litthemes": __version__, "columns": schema.names}
        digest = content_key(stage, namespace)[:16]
        self.dir = Path(root) / stage / digest

    def load(self, keys: list[str]) -> tuple[pd.DataFrame, set[str]]:
        """Cached rows for ``keys`` (with the key column) and the keys found (also those with no rows)."""
        empty = pa.schema([pa.field(KEY, pa.string()), *self.schema]).empty_table().to_pandas()
        if not self.dir.exists() or not keys:
            return empty, set()
        wanted = pa.array(sorted(set(keys)), pa.string())
        return read_parts(self.dir, lambda parts: self._load(parts, wanted, empty))

    def _load(self, parts: list[Path], wanted: pa.Array, empty: pd.DataFrame) -> tuple[pd.DataFrame, set[str]]:
        tables = []
        found: set[str] = set()
        for part in parts:
            table = pq.read_table(part)
            table = table.filter(pc.is_in(table.column(KEY), value_set=wanted))
            if not table.num_rows:
                continue
            # A record's rows come from one file only, should two shards have stored it.
            part_keys = set(table.column(KEY).to_pylist())
            fresh = part_keys - found
            if fresh != part_keys:
                table = table.filter(pc.is_in(table.column(KEY), value_set=pa.array(sorted(fresh), pa.string())))
            found |= fresh
            # Marker rows (records with no rows) have a null first column.
            tables.append(table.filter(pc.is_valid(table.column(self.schema.names[0]))))
        if not tables:
            return empty, found
        return pa.concat_tables(tables).to_pandas(), found

    def add(self, rows: pd.DataFrame, keys: list[str]) -> None:
        """Store ``rows`` (with the key column) for ``keys``; a key with no rows gets a marker row."""
        if not keys:
            return
        schema = pa.schema([pa.field(KEY, pa.string()), *self.schema])
        table = pa.Table.from_pandas(rows[[KEY, *self.schema.names]], schema=schema, preserve_index=False)
        # Records with no rows still need an entry, or they would be recomputed every time.
        empty = sorted(set(keys) - set(rows[KEY]))
        if empty:
            markers = pa.table(
                {KEY: pa.array(empty, pa.string()), **{f.name: pa.nulls(len(empty), f.type) for f in self.schema}},
                schema=schema,
            )
            table = pa.concat_tables([table, markers])
        self.dir.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.dir / f"part-{content_key(sorted(set(keys)))[:20]}.parquet") as tmp:
            pq.write_table(table.replace_schema_metadata(None), tmp, compression="zstd")
        compact(self.dir, KEY)


@dataclass(frozen=True)
class CacheEntry:
    """One prunable unit of a cache: a folder of part files (one namespace of a record
    cache, or one model's embeddings) or one file's ingest result.

    Entries of one ``group`` are alternatives for one stage: the namespaces of a record
    cache's stage (one per codebook version, say), the models of the embedding cache,
    the versions of one input file in the ingest cache. Ingest entries of a file that is
    no longer an input have no group.
    """

    kind: str
    path: Path
    files: int
    size: int
    last_used: float
    # Entries with the same group are alternatives; the one used last is never pruned.
    group: Path | None

    def unused_days(self, now: float) -> float:
        return max(0.0, (now - self.last_used) / 86400)


def configured_roots(settings: Settings) -> dict[str, Path]:
    """The cache folders a config (:class:`litthemes.config.Settings`) names, by stage.
    The OpenAlex response cache is not among them: it holds what an online run fetched,
    which an offline rerun could not fetch again."""
    roots = {
        "ingest": settings.ingest.cache_dir,
        "segments": settings.segment.cache_dir,
        "codes": settings.code.cache_dir,
        "embeddings": settings.embed.cache_dir,
    }
    return {stage: Path(folder) for stage, folder in roots.items() if folder}


def ingest_folder(path: str) -> str:
    """The ingest cache's folder for the versions of the input file ``path``."""
    return hashlib.sha1(path.encode("utf-8")).hexdigest()[:16]


def find_entries(roots: dict[str, Path], inputs: Iterable[str] = ()) -> list[CacheEntry]:
    """Every cache entry under ``roots`` (stage -> folder, as :func:`configured_roots`),
    each once even where roots are nested, sorted by kind and path. ``inputs`` are the
    input files the config names (the versions of other files have no group)."""
    entries: dict[Path, CacheEntry] = {}
    current = {ingest_folder(path) for path in inputs}

    def add(kind: str, path: Path, files: list[Path], group: Path | None) -> None:
        if path.resolve() in entries:
            return
        sizes = [f.stat().st_size for f in files if f.exists()]
        entries[path.resolve()] = CacheEntry(kind, path, len(sizes), sum(sizes), path.stat().st_mtime, group)

    for stage, root in roots.items():
        if not root.is_dir():
            continue
        for folder in sorted({part.parent for part in root.rglob("part-*.parquet")}):
            # Record caches keep a folder per stage above their namespaces; the embedding
            # cache keeps a model's folder right in its root.
            add(
                "embeddings" if folder.parent == root else folder.parent.name,
                folder,
                list(folder.iterdir()),
                folder.parent,
            )
        # Encoders tuned on human codes (litthemes.code.tune): a folder each, the
        # alternatives of one code cache.
        for model in sorted(root.rglob(f"{ENCODERS}/*/modules.json")):
            add(ENCODERS, model.parent, [f for f in model.parent.rglob("*") if f.is_file()], model.parent.parent)
        if stage == "ingest":
            for entry in sorted((root / "ingest").rglob("*.json")):
                add("ingest", entry, [entry], entry.parent if entry.parent.name in current else None)
    return sorted(entries.values(), key=lambda e: (e.kind, str(e.path)))


def latest_entries(entries: list[CacheEntry]) -> set[CacheEntry]:
    """The entry of each group that was used last (what the latest run of its stage used)."""
    latest: dict[Path, CacheEntry] = {}
    for entry in entries:
        if entry.group is None:
            continue
        held = latest.get(entry.group)
        if held is None or (entry.last_used, str(entry.path)) > (held.last_used, str(held.path)):
            latest[entry.group] = entry
    return set(latest.values())


def prune(
    entries: list[CacheEntry], unused_for_days: float, now: float | None = None, dry_run: bool = False
) -> list[CacheEntry]:
    """Remove the entries no run has used for more than ``unused_for_days`` days; returns them.

    The entry of each group that was used last is kept whatever its age: a stage that
    Snakemake has not rerun for a while (embedding, while only the codebook changes) did
    not look anything up, but its last entry is still the current one. Only files a
    cache writes are removed (part files, half-written temporary files, ingest results),
    and a folder only once it is empty. Removing an entry costs the next run that needs
    it the time to compute it again, never a result.
    """
    now = time.time() if now is None else now
    kept = latest_entries(entries)
    stale = [e for e in entries if e not in kept and e.unused_days(now) > unused_for_days]
    if dry_run:
        return stale
    for entry in stale:
        if entry.kind == ENCODERS:
            # Every file of a tuned encoder's folder was written by litthemes.code.tune.
            shutil.rmtree(entry.path, ignore_errors=True)
        elif entry.path.is_dir():
            for file in [*entry.path.glob("part-*.parquet"), *entry.path.glob(".part-*.tmp")]:
                file.unlink(missing_ok=True)
            try:
                entry.path.rmdir()
            except OSError:
                log.warning("cache %s: left in place, it holds files litthemes did not write", entry.path)
        else:
            entry.path.unlink(missing_ok=True)
        log.info("cache: removed %s (%d bytes, unused for %.0f days)", entry.path, entry.size, entry.unused_days(now))
    return stale
