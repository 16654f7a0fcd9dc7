"""Segmentation: titles, abstract sentences, full-text passages, offsets and lemmas."""

from __future__ import annotations

import pandas as pd

from litthemes.config import SegmentSettings
from litthemes.segment import lemmatize, load_pipeline, segment


def records() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "record_id": "a",
                "title": "Digital Badges in Higher Education",
                "status": "included",
                "abstract": "Badges were issued to students. Employers rarely recognised them!",
                "fulltext": "",
            },
            {
                "record_id": "b",
                "title": "",
                "status": "included",
                "abstract": "",
                "fulltext": "First paragraph about stacking credentials.\n\nSecond paragraph. It has two sentences.",
            },
            {"record_id": "c", "title": "Excluded record", "status": "excluded", "abstract": "", "fulltext": ""},
        ]
    )


def test_segments_with_offsets_that_point_into_the_field() -> None:
    recs = records()
    seg = segment(recs)
    assert set(seg["record_id"]) == {"a", "b"}
    a = seg[seg["record_id"] == "a"]
    assert a["field"].tolist() == ["title", "abstract", "abstract"]
    assert a["segment_index"].tolist() == [0, 1, 2]
    for row in seg.itertuples():
        source = recs.set_index("record_id").loc[row.record_id, row.field]
        assert source[row.start_char : row.end_char] == row.text
    b = seg[seg["record_id"] == "b"]
    assert b["text"].tolist() == [
        "First paragraph about stacking credentials.",
        "Second paragraph.",
        "It has two sentences.",
    ]


def test_lemmas_are_lower_case_and_sentence_initial_words_are_lemmatised() -> None:
    seg = segment(records())
    title = seg[(seg["record_id"] == "a") & (seg["field"] == "title")].iloc[0]
    assert title["lemmas"] == "digital badge in high education"
    assert lemmatize(["Badges", "badges"]) == ["badge", "badge"]


def test_long_passages_are_split() -> None:
    text = " ".join(["word"] * 400)
    recs = pd.DataFrame([{"record_id": "x", "title": "", "abstract": text, "fulltext": "", "status": "included"}])
    seg = segment(recs, SegmentSettings(max_segment_chars=300))
    assert len(seg) > 1 and seg["text"].str.len().max() <= 300


def test_blank_pipeline_has_sentences_and_lookup_lemmas() -> None:
    nlp = load_pipeline("blank")
    doc = nlp("Students earned badges. They shared them.")
    assert len(list(doc.sents)) == 2
    assert [t.lemma_ for t in doc][2] == "badge"


def test_added_records_are_the_only_ones_segmented(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import litthemes.segment.run as nlp_run

    settings = SegmentSettings(cache_dir=str(tmp_path))
    first = records()
    nlp_run.cached_segments(first, settings)
    seen: list[list[str]] = []
    real = nlp_run.segment

    def counting(frame: pd.DataFrame, settings: SegmentSettings) -> pd.DataFrame:
        seen.append(frame["record_id"].tolist())
        return real(frame, settings)

    monkeypatch.setattr(nlp_run, "segment", counting)
    added = pd.concat([first.iloc[:1].assign(record_id="new", title="A new record"), first], ignore_index=True)
    got = nlp_run.cached_segments(added, settings)
    assert seen == [["new"]]
    expected = real(added, SegmentSettings(cache_dir=""))
    pd.testing.assert_frame_equal(got, expected)
    # Other settings are another cache.
    nlp_run.cached_segments(first, SegmentSettings(cache_dir=str(tmp_path), max_segment_chars=200))
    assert seen[-1] == ["a", "b"]
