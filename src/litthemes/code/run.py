"""Code stage I/O: segments (+ embeddings) and the codebook -> codings and evidence."""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from litthemes.cache import KEY, RecordCache, content_key
from litthemes.code.lexical import CueHit, LexicalCoder, lexical_fingerprint
from litthemes.code.score import aggregate, code_segments, evidence
from litthemes.code.semantic import PrototypeClassifier, SegmentClassifier
from litthemes.code.tune import tuned_settings
from litthemes.codebook import THEME, Code, Codebook, load_codebook
from litthemes.config import CodeSettings, EmbedSettings, SegmentSettings
from litthemes.embed import cache_shape, embed_texts, model_id
from litthemes.segment import load_pipeline, pipeline_id
from litthemes.shards import select_shard
from litthemes.tables import (
    CODES,
    EVIDENCE,
    RECORDS,
    SEGMENT_CODES,
    SEGMENTS,
    read_table,
    read_vectors,
    write_table,
)
from litthemes.versions import CODING_MODEL

if TYPE_CHECKING:
    from litthemes.code.train import TrainingSet

log = logging.getLogger(__name__)


# One row per cue hit; a code whose hits were all excluded has one row with an empty cue.
LEXICAL = pa.schema(
    [("code", pa.string()), ("segment_index", pa.int64()), ("cue", pa.string()), ("weight", pa.float64())]
)


def record_keys(segments: pd.DataFrame) -> dict[str, str]:
    """Content key of each record's segments (index, text, lemmas), in order of appearance."""
    rows: dict[str, list[list[Any]]] = {}
    for rid, index, text, lemmas in zip(
        segments["record_id"].tolist(),
        segments["segment_index"].tolist(),
        segments["text"].tolist(),
        segments["lemmas"].tolist(),
        strict=True,
    ):
        rows.setdefault(rid, []).append([int(index), text, lemmas])
    return {rid: content_key(rid, parts) for rid, parts in rows.items()}


def cached_matches(
    segments: pd.DataFrame, keys: dict[str, str], book: Codebook, settings: CodeSettings, nlp: SegmentSettings
) -> list[dict[str, list[CueHit]]]:
    """Lexical hits of each segment row (see :meth:`LexicalCoder.match`), matching only
    the records a code's cues have not yet been run on.

    A code's matches depend on its own cues and the lemmas, so the cache is keyed by
    record content and code cues: after a codebook edit only the edited codes run, and
    after adding records only the new records.
    """
    assert settings.cache_dir
    fingerprint = {code.id: lexical_fingerprint(code) for code in book.codes}
    pair_key = {
        (rid, code): hashlib.sha1(f"{key}|{fp}".encode("ascii")).hexdigest()
        for rid, key in keys.items()
        for code, fp in fingerprint.items()
    }
    cache = RecordCache(
        settings.cache_dir,
        "lexical",
        LEXICAL,
        {"nlp": pipeline_id(nlp.model), "model": CODING_MODEL, "weak": settings.weak_cue_weight},
    )
    cached, found = cache.load(list(pair_key.values()))
    # Codes that lack the same records run together, in one pass of one matcher.
    missing: dict[tuple[str, ...], list[Code]] = {}
    for code in book.codes:
        todo = tuple(rid for rid in keys if pair_key[rid, code.id] not in found)
        if todo:
            missing.setdefault(todo, []).append(code)
    rows_of = segments.groupby("record_id", sort=False).indices
    lemmas = segments["lemmas"].tolist()
    index = segments["segment_index"].tolist()
    fresh: list[dict[str, Any]] = []
    stored: list[str] = []
    for todo, codes in missing.items():
        # load_pipeline is cached: spaCy loads once, and only when some code has records to run on.
        coder = LexicalCoder(codes, load_pipeline(nlp.model), settings.weak_cue_weight)
        for rid in todo:
            for row in rows_of[rid]:
                for code_id, hits in coder.match(lemmas[row] or "").items():
                    for cue, weight in hits or [("", 0.0)]:
                        fresh.append(
                            {
                                KEY: pair_key[rid, code_id],
                                "code": code_id,
                                "segment_index": index[row],
                                "cue": cue,
                                "weight": weight,
                            }
                        )
            stored.extend(pair_key[rid, code.id] for code in codes)
        log.info("code: lexical cues of %d codes run on %d records", len(codes), len(todo))
    new = pd.DataFrame(fresh, columns=[KEY, *LEXICAL.names])
    cache.add(new, stored)
    frames = [f for f in (cached, new) if len(f)]
    found_rows = pd.concat(frames, ignore_index=True) if frames else new
    owner = {key: rid for (rid, _), key in pair_key.items()}
    matches: list[dict[str, list[CueHit]]] = [{} for _ in range(len(segments))]
    position = {
        (rid, idx): row for row, (rid, idx) in enumerate(zip(segments["record_id"].tolist(), index, strict=True))
    }
    for key, code, idx, cue, weight in zip(
        found_rows[KEY].tolist(),
        found_rows["code"].tolist(),
        found_rows["segment_index"].tolist(),
        found_rows["cue"].tolist(),
        found_rows["weight"].tolist(),
        strict=True,
    ):
        hits = matches[position[owner[key], int(idx)]].setdefault(code, [])
        if cue:
            hits.append((cue, float(weight)))
    return matches


# Each record's key in the coding cache (see _coding_keys), kept under the record's
# content and the cues of every code.
CODING_KEYS = pa.schema([("coding_key", pa.string())])

# The lexical hits of some segments (whole records), one per row.
MatchesOf = Callable[[pd.DataFrame], list[dict[str, list[CueHit]]]]


def _coding_keys(
    segments: pd.DataFrame, keys: dict[str, str], book: Codebook, settings: CodeSettings, nlp: SegmentSettings
) -> tuple[dict[str, str], MatchesOf]:
    """Each record's key in the coding cache, made of its content and its cues' matches
    (not the cues themselves), and a function giving the matches of the segments to code.

    A new term that matches nothing in a record leaves the record's key as it was, so
    after such an edit only the records whose matches changed are coded again. The key
    of a record is kept in an index under its content and every code's cues, so that a
    run after adding records matches the cues of the new records only.
    """
    assert settings.cache_dir
    index = RecordCache(
        settings.cache_dir,
        "coding_keys",
        CODING_KEYS,
        {
            "cues": [lexical_fingerprint(code) for code in book.codes],
            "nlp": pipeline_id(nlp.model),
            "model": CODING_MODEL,
            "weak": settings.weak_cue_weight,
        },
    )
    indexed, _ = index.load(list(keys.values()))
    by_content = dict(zip(indexed[KEY].tolist(), indexed["coding_key"].tolist(), strict=True))
    coding_key = {rid: by_content[key] for rid, key in keys.items() if key in by_content}
    known: dict[tuple[str, int], dict[str, list[CueHit]]] = {}

    def match(part: pd.DataFrame) -> dict[str, list[list[Any]]]:
        """Matches ``part``'s segments (whole records), remembers them and returns each
        record's matches in a form that can be hashed."""
        part_keys = {rid: keys[rid] for rid in part["record_id"].unique()}
        found = cached_matches(part, part_keys, book, settings, nlp)
        by_record: dict[str, list[list[Any]]] = {}
        for rid, idx, hits in zip(part["record_id"].tolist(), part["segment_index"].tolist(), found, strict=True):
            known[rid, int(idx)] = hits
            by_record.setdefault(rid, []).append([int(idx), sorted(hits.items())])
        return by_record

    unindexed = segments[~segments["record_id"].isin(set(coding_key))].reset_index(drop=True)
    if len(unindexed):
        fresh = {rid: content_key(keys[rid], parts) for rid, parts in match(unindexed).items()}
        coding_key.update(fresh)
        content = [keys[rid] for rid in fresh]
        index.add(pd.DataFrame({KEY: content, "coding_key": list(fresh.values())}), content)

    def matches_of(todo: pd.DataFrame) -> list[dict[str, list[CueHit]]]:
        pairs = list(zip(todo["record_id"].tolist(), todo["segment_index"].astype(int).tolist(), strict=True))
        # Records indexed earlier whose coding is no longer cached (pruned): matched now.
        unknown = {rid for rid, idx in pairs if (rid, idx) not in known}
        if unknown:
            match(todo[todo["record_id"].isin(unknown)].reset_index(drop=True))
        return [known[pair] for pair in pairs]

    return coding_key, matches_of


# Segment vectors: a matrix with a row per segment, or a function that gives the rows of
# the segments it is handed (so that only the segments to code are read or embedded).
SegmentVectors = np.ndarray | Callable[[pd.DataFrame], np.ndarray]


def _vectors_of(vectors: SegmentVectors, segments: pd.DataFrame, rows: np.ndarray | None = None) -> np.ndarray:
    """The vectors of ``segments`` (of its ``rows``, a boolean mask, if given)."""
    if rows is None:
        return vectors(segments) if callable(vectors) else vectors
    if callable(vectors):
        return vectors(segments[rows].reset_index(drop=True))
    return vectors[rows]


def cached_codes(
    segments: pd.DataFrame,
    vectors: SegmentVectors,
    book: Codebook,
    settings: CodeSettings,
    embed: EmbedSettings,
    nlp: SegmentSettings,
    training: TrainingSet | None = None,
) -> pd.DataFrame:
    """:func:`code_segments`, computing only records whose segments and cue matches the
    cache has not seen with this codebook's semantic part (:attr:`Codebook.semantic_fingerprint`),
    these settings and this training set; matching only the cues the lexical cache has not
    seen."""
    # The encoder the classifier reads: tuned on the human codes with code.tune_epochs, asked
    # for once and only when a record is left to code (tuning is slow; the cache may hold all).
    encoder = functools.cache(partial(tuned_settings, training, embed, settings.tune_epochs, settings.cache_dir))
    classifier = _classifier(book, encoder, embed, settings, training)
    if training is not None and settings.tune_epochs:
        # The classifier reads the segments as the tuned encoder embeds them (embedded
        # only for the records to code, through the embedding cache).
        vectors = partial(_tuned_vectors, encoder)
    if not settings.cache_dir or segments.empty:
        return code_segments(
            segments, _vectors_of(vectors, segments), book, settings, embed, nlp.model, classifier=classifier()
        )
    keys = record_keys(segments)
    namespace = {
        # What coding depends on besides the cues' matches, not the file's bytes: a new term,
        # version number, label or measured agreement codes again only the records whose
        # matches changed (the outputs still carry the file's hash).
        "codebook": book.semantic_fingerprint,
        "code": settings.model_dump(
            exclude={
                "cache_dir",
                "evidence_per_code",
                "main_min_evidence",
                "training",
                "training_folds",
                "first_segment_weight",
            }
            # The order of codes and the tuned encoder are learnt from human codes only:
            # without them they change nothing.
            | ({"training_sequence", "tune_epochs"} if training is None else set())
        ),
        # The segment vectors follow from the texts, the model, the batch shape and arithmetic.
        "embed": [model_id(embed.model), cache_shape(embed)],
        "nlp": pipeline_id(nlp.model),
        "model": CODING_MODEL,
        "training": training.digest if training else "",
    }
    cache = RecordCache(settings.cache_dir, "segment_codes", SEGMENT_CODES, namespace)
    coding_key, matches_of = _coding_keys(segments, keys, book, settings, nlp)
    cached, found = cache.load(list(coding_key.values()))
    todo = segments["record_id"].map(lambda rid: coding_key[rid] not in found).to_numpy(bool)
    todo_segments = segments[todo].reset_index(drop=True)
    matches = matches_of(todo_segments)
    # Fitted only when some record is to be coded (a rerun with nothing new needs no model).
    model = classifier() if len(todo_segments) else None
    new = code_segments(
        todo_segments, _vectors_of(vectors, segments, todo), book, settings, embed, nlp.model, matches, classifier=model
    )
    new_keys = sorted({coding_key[rid] for rid in todo_segments["record_id"]})
    cache.add(new.assign(**{KEY: new["record_id"].map(coding_key)}), new_keys)
    log.info("code: %d records from the cache, %d coded", len(keys) - len(new_keys), len(new_keys))
    frames = [f for f in (cached.drop(columns=KEY), new) if len(f)]
    merged = pd.concat(frames, ignore_index=True) if frames else new
    return merged.sort_values(["record_id", "segment_index", "code"], kind="stable").reset_index(drop=True)


def _classifier(
    book: Codebook,
    encoder: Callable[[], EmbedSettings],
    embed: EmbedSettings,
    settings: CodeSettings,
    training: TrainingSet | None,
) -> Callable[[], SegmentClassifier]:
    """A function that fits the semantic model: on the human codes if given (read through
    ``encoder()``), else on the prototypes (read through ``embed``)."""
    if training is not None:
        from litthemes.code.train import TrainedClassifier

        return lambda: TrainedClassifier(
            book,
            training,
            encoder(),
            settings.semantic_c,
            settings.semantic_min_similarity,
            settings.training_sequence,
        )
    return lambda: PrototypeClassifier(
        book, embed, settings.semantic_c, settings.cache_dir, min_similarity=settings.semantic_min_similarity
    )


def _tuned_vectors(encoder: Callable[[], EmbedSettings], segments: pd.DataFrame) -> np.ndarray:
    """The segments' vectors from the encoder tuned on the human codes (see :mod:`litthemes.code.tune`)."""
    if segments.empty:
        # Nothing to code: the encoder is not asked for (it might have to be tuned first).
        return np.zeros((0, 0), np.float32)
    return embed_texts(segments["text"].tolist(), encoder())


def _segment_vectors(vectors_path: str, segments: pd.DataFrame) -> np.ndarray:
    """The vectors of ``segments``, in their order, from the embed stage's table (only
    the row groups holding these records are read)."""
    if segments.empty:
        return np.zeros((0, 0), np.float32)

    keys, vectors = read_vectors(vectors_path, set(segments["record_id"]))
    position = keys.reset_index().set_index(["record_id", "segment_index"])["index"]
    rows = position.reindex(pd.MultiIndex.from_arrays([segments["record_id"], segments["segment_index"]]))
    if rows.isna().any():
        record_id, segment_index = rows.index[rows.isna().to_numpy()][0]
        raise ValueError(f"{vectors_path}: no vector for segment {segment_index} of record {record_id!r}")
    return vectors[rows.to_numpy(dtype=np.int64)]


def run(
    records_path: str,
    codebook_path: str,
    segments_path: str,
    vectors_path: str,
    out: str,
    *,
    segment_codes_out: str | None = None,
    dimensions_out: str | None = None,
    evidence_out: str | None = None,
    settings: dict[str, Any] | None = None,
    embed_settings: dict[str, Any] | None = None,
    segment_settings: dict[str, Any] | None = None,
    shard: tuple[int, int] | None = None,
) -> dict[str, int]:
    """Code records (of one shard, if given) with the codebook, from the segment and embed
    stages' tables. With ``code.training`` set, the semantic model is fitted on those human codes.

    ``embed_settings`` name the encoder the codebook's examples are embedded with (the
    segments' vectors are read, not recomputed); ``segment_settings`` the spaCy pipeline
    the codebook's terms are lemmatised with, so that they match the segments' lemmas.
    """
    book = load_codebook(codebook_path)
    code_settings = CodeSettings.model_validate(settings or {})
    training = None
    if code_settings.training:
        # Imported only here: reading human codes brings in the agree stage and scipy.
        from litthemes.code.train import load_training

        training = load_training(code_settings.training, book)
    embed = EmbedSettings.model_validate(embed_settings or {})
    nlp = SegmentSettings.model_validate(segment_settings or {})
    records = select_shard(read_table(records_path, RECORDS), shard)
    included = records[records["status"] == "included"] if "status" in records else records
    segments = read_table(segments_path, SEGMENTS)
    if shard is not None:
        segments = segments[segments["record_id"].isin(set(included["record_id"]))].reset_index(drop=True)
    seg_codes = cached_codes(
        segments, partial(_segment_vectors, vectors_path), book, code_settings, embed, nlp, training
    )
    ids = included["record_id"].tolist()
    codes = aggregate(seg_codes, ids, book, THEME, code_settings.main_min_evidence, code_settings.first_segment_weight)
    write_table(codes, out, CODES, "codes")
    if segment_codes_out:
        write_table(seg_codes, segment_codes_out, SEGMENT_CODES, "segment_codes")
    if dimensions_out:
        dims = aggregate(
            seg_codes, ids, book, None, code_settings.main_min_evidence, code_settings.first_segment_weight
        )
        write_table(dims[dims["dimension"] != THEME], dimensions_out, CODES, "dimensions")
    if evidence_out:
        write_table(evidence(seg_codes, segments, code_settings.evidence_per_code), evidence_out, EVIDENCE, "evidence")
    return {"records": len(ids), "segments": len(segments), "coded": int(codes["present"].sum())}
