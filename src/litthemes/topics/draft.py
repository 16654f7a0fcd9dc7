"""A codebook drafted from the fitted topics: the inductive step that feeds the deductive one.

Each topic (outliers aside) becomes a code a researcher edits and promotes: an id and a
label from its distinctive terms, a definition to rewrite, the terms as cues, and the
passages of its records closest to the topic as examples. Topics whose centroids are
near-duplicates are merged into one code. The corpus's most central titles become the
background (what every record is about). With ``extend``, the study's own codebook is
kept and codes are added for its emergent topics only.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from litthemes.captions import OKABE_ITO
from litthemes.codebook import THEME, load_codebook
from litthemes.config import Settings, load
from litthemes.tables import DOC_TOPICS, RECORDS, SEGMENTS, TOPICS, read_table, read_vectors, write_text

DRAFT_GROUP = "drafted"


@dataclass
class DraftCode:
    """A code drafted from one or more topics."""

    topics: list[int]
    size: int
    terms: list[str]
    examples: list[str] = field(default_factory=list)
    unstable: bool = False
    label: str = ""
    definition: str = ""


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / (np.linalg.norm(vector) or 1.0)


def merge_topics(centroids: dict[int, np.ndarray], similarity: float) -> list[list[int]]:
    """Groups of near-duplicate topics: every pair in a group has centroids at least
    ``similarity`` apart by cosine (complete linkage, so no chain of neighbours merges
    distinct topics). Most similar pairs are joined first; groups in topic order."""
    topics = sorted(centroids)
    unit = {t: _unit(centroids[t]) for t in topics}
    cosine = {(a, b): float(unit[a] @ unit[b]) for i, a in enumerate(topics) for b in topics[i + 1 :]}
    group_of = {t: [t] for t in topics}
    for (a, b), value in sorted(cosine.items(), key=lambda item: (-item[1], item[0])):
        if value < similarity:
            break
        ga, gb = group_of[a], group_of[b]
        if ga is gb or any(cosine[min(x, y), max(x, y)] < similarity for x in ga for y in gb):
            continue
        ga.extend(gb)
        for t in gb:
            group_of[t] = ga
    unique = {id(g): sorted(g) for g in group_of.values()}
    return sorted(unique.values())


def _slug(label: str, taken: set[str]) -> str:
    words = [word for word in re.findall(r"[a-z0-9]+", label.lower()) if word != "and"]
    base = "_".join(words[:4]) or "topic"
    base = base if base[0].isalpha() else f"t_{base}"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}_{n}", n + 1
    taken.add(slug)
    return slug


_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s+)$")


def corpus_casing(texts: pd.Series, words: set[str]) -> dict[str, str]:
    """How the corpus writes each of ``words`` (lowercase) inside a sentence: its most
    common form there, so that topic terms, which are lowercased lemmas, read "MOOC" or
    "COVID-19" in a label; lower case wherever the corpus writes the word so a quarter of
    the time ("university" beside "Stanford University"). A sentence's first word says
    nothing about its case and is not counted; titles are left out (their words are
    capitalised by style)."""
    forms: dict[str, Counter[str]] = {word: Counter() for word in words}
    for text in texts.astype(str):
        for match in _WORD.finditer(text):
            counter = forms.get(match.group().lower())
            if counter is not None and not _SENTENCE_START.search(text[max(0, match.start() - 3) : match.start()]):
                counter[match.group()] += 1
    return {
        word: word if counter[word] * 4 >= counter.total() else min(counter, key=lambda form: (-counter[form], form))
        for word, counter in forms.items()
        if counter
    }


def _stems(term: str) -> set[str]:
    # Five letters tell "education" and "educational" for one word, "course" from "curriculum".
    return {word[:5] for word in term.split()}


def draft_label(terms: list[str], casing: dict[str, str]) -> str:
    """A label from a code's two leading terms that share no word, as the corpus writes
    them ("MOOC dropout", not "Mooc dropout and learners dropout")."""
    if not terms:
        return "Topic"
    second = [t for t in terms[1:] if not _stems(t) & _stems(terms[0])][:1]
    chosen = [terms[0], *second]
    written = " and ".join(" ".join(casing.get(word, word) for word in term.split()) for term in chosen)
    return written[0].upper() + written[1:]


def _example_pool(segments: pd.DataFrame, vectors_path: str, record_ids: set[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """The passages examples are chosen from (abstract and full-text sentences of a
    readable length, of ``record_ids``) and their vectors, in one read of the vector file."""
    keys, vectors = read_vectors(vectors_path, record_ids)
    row = pd.Series(np.arange(len(keys)), index=pd.MultiIndex.from_frame(keys[["record_id", "segment_index"]]))
    pool = segments[
        segments["record_id"].isin(record_ids)
        & (segments["field"] != "title")
        & segments["text"].str.len().between(60, 400)
    ]
    rows = row.reindex(pd.MultiIndex.from_frame(pool[["record_id", "segment_index"]]))
    pool = pool.assign(row=rows.to_numpy()).dropna(subset=["row"])
    return pool, vectors


def _examples(
    pool: pd.DataFrame, vectors: np.ndarray, members: list[str], centroid: np.ndarray, k: int
) -> tuple[list[str], list[str]]:
    """The ``k`` passages of ``pool`` (one per record) of ``members`` closest to
    ``centroid``, and the records they come from."""
    mine = pool[pool["record_id"].isin(set(members))]
    if mine.empty:
        return [], []
    mine = mine.assign(score=-(vectors[mine["row"].to_numpy(dtype=np.int64)] @ centroid))
    best = mine.sort_values(["score", "record_id", "segment_index"], kind="stable").drop_duplicates("record_id").head(k)
    return [str(text) for text in best["text"]], [str(rid) for rid in best["record_id"]]


def draft_codes(
    settings: Settings,
    merge_similarity: float = 0.95,
    n_terms: int = 6,
    n_examples: int = 3,
    emergent_only: bool = False,
) -> tuple[list[DraftCode], list[str]]:
    """The drafted codes, and background texts (the corpus's most central titles)."""
    processed, interim = Path(settings.processed_dir), Path(settings.interim_dir)
    topics = read_table(processed / "topics.parquet", TOPICS)
    doc_topics = read_table(processed / "doc_topics.parquet", DOC_TOPICS)
    segments = read_table(interim / "segments.parquet", SEGMENTS)
    records = read_table(interim / "records.parquet", RECORDS).set_index("record_id")
    keys, doc_vectors = read_vectors(str(interim / "document_embeddings.parquet"))
    position = {rid: i for i, rid in enumerate(keys["record_id"])}
    real = topics[topics["topic"] >= 0]
    if emergent_only:
        real = real[real["emergent"]]
    members = {
        int(t): [r for r in doc_topics.loc[doc_topics["topic"] == t, "record_id"] if r in position]
        for t in real["topic"]
    }
    centroids = {t: _unit(doc_vectors[[position[r] for r in ids]].mean(axis=0)) for t, ids in members.items() if ids}
    by_topic = real.set_index("topic")
    pool, segment_vectors = _example_pool(
        segments, str(interim / "segment_embeddings.parquet"), {r for ids in members.values() for r in ids}
    )
    codes = []
    example_records: set[str] = set()
    for group in merge_topics(centroids, merge_similarity):
        terms: list[str] = []
        for t in group:
            for term in str(by_topic.loc[t, "top_terms"]).split("; "):
                if term and term not in terms:
                    terms.append(term)
        ids = [r for t in group for r in members[t]]
        centroid = _unit(doc_vectors[[position[r] for r in ids]].mean(axis=0))
        examples, sources = _examples(pool, segment_vectors, ids, centroid, n_examples)
        example_records.update(sources)
        codes.append(
            DraftCode(
                topics=group,
                size=len(ids),
                terms=terms[:n_terms],
                examples=examples,
                unstable=not bool(by_topic.loc[group, "stable"].all()),
            )
        )
    # Terms shared by several drafted codes tell them apart from nothing: each keeps its own.
    counts: dict[str, int] = {}
    for code in codes:
        for term in set(code.terms):
            counts[term] = counts.get(term, 0) + 1
    for code in codes:
        own = [t for t in code.terms if counts[t] == 1]
        code.terms = own or code.terms
    casing = corpus_casing(
        records.loc[[r for ids in members.values() for r in ids], "abstract"],
        {word for code in codes for term in code.terms for word in term.split()},
    )
    for code in codes:
        code.label = draft_label(code.terms, casing)
        written = [" ".join(casing.get(word, word) for word in term.split()) for term in code.terms[:4]]
        code.definition = f"Passages about {', '.join(written)}."
    # The background: the title of the record nearest each topic's centroid, so that it
    # covers every part of the corpus, not only its centre. Not from a record an example
    # was taken from: the fit check measures how close the examples come to the
    # background, and a passage is closer to its own record's title than to any other.
    titles: list[str] = []
    for topic, ids in sorted(members.items()):
        candidates = [r for r in ids if r not in example_records] or ids
        if candidates:
            rows = [position[r] for r in candidates]
            nearest = candidates[int(np.argmax(doc_vectors[rows] @ centroids[topic]))]
            title = str(records.loc[nearest, "title"])
            if title and title not in titles:
                titles.append(title)
    return sorted(codes, key=lambda c: (-c.size, c.topics)), titles


def _code_yaml(code: DraftCode, code_id: str, colour: str) -> str:
    entry: dict[str, Any] = {
        "id": code_id,
        "dimension": THEME,
        "group": DRAFT_GROUP,
        "label": code.label,
        "colour": colour,
        "definition": code.definition,
        "include": {"terms": code.terms, "weak_terms": []},
        "exclude": {"terms": []},
        "examples": code.examples,
    }
    topics = ", ".join(str(t) for t in code.topics)
    note = f"  # from topic{'s' if len(code.topics) > 1 else ''} {topics}: {code.size} records"
    note += "; unstable across seeds, check it" if code.unstable else ""
    return note + "\n" + _indented(entry)


def _indented(entry: dict[str, Any]) -> str:
    """One code as an item of the codebook's ``codes:`` list."""
    body = yaml.safe_dump([entry], sort_keys=False, allow_unicode=True, width=100)
    return "\n".join("  " + line if line else line for line in body.splitlines()) + "\n"


def draft_codebook(
    config_path: str,
    out: str,
    merge_similarity: float = 0.95,
    n_terms: int = 6,
    n_examples: int = 3,
    extend: bool = False,
) -> int:
    """Write the drafted codebook to ``out``; returns the number of codes drafted."""
    settings = load(config_path)
    codes, background = draft_codes(settings, merge_similarity, n_terms, n_examples, emergent_only=extend)
    taken: set[str] = set()
    if extend:
        book = load_codebook(settings.codebook)
        taken = {c.id for c in book.codes}
        data = book.model_dump(mode="json", exclude={"source_hash"})
        data["groups"] = {**data["groups"], DRAFT_GROUP: "Drafted from emergent topics"}
        head = {k: v for k, v in data.items() if k != "codes"}
        existing = "codes:\n" + "".join(_indented(entry) for entry in data["codes"])
        header = (
            f"# {book.name}, extended by `litthemes codebook draft --extend` with codes for its emergent\n"
            "# topics (group 'drafted'): edit their labels, definitions, cues and examples, bump the version.\n"
        )
        text = header + yaml.safe_dump(head, sort_keys=False, allow_unicode=True, width=100) + existing
    else:
        head = {
            "name": settings.study or "study",
            "version": "0.1.0",
            "description": "Drafted from the topics of the first run; edit before use.",
            "groups": {DRAFT_GROUP: "Drafted from topics"},
            "dimensions": {THEME: "Themes"},
            "background": background,
        }
        header = (
            "# A codebook drafted by `litthemes codebook draft` from the topics of the last run.\n"
            "# Each code comes from one topic, or from near-duplicate topics merged. Before using it:\n"
            "# rename ids and labels, rewrite each definition as what a passage must say to carry the\n"
            "# code, keep the cues that are specific, add examples, and group the codes. The background\n"
            "# is the corpus's most central titles: what every record is about.\n"
        )
        text = header + yaml.safe_dump(head, sort_keys=False, allow_unicode=True, width=100) + "codes:\n"
    for i, code in enumerate(codes):
        text += _code_yaml(code, _slug(code.label, taken), OKABE_ITO[i % len(OKABE_ITO)])
    write_text(text, out)
    load_codebook(out)  # the draft is a valid codebook
    return len(codes)
