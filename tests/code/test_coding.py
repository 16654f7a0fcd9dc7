"""Deductive coding: lexical cues with exclusions, semantic evidence, outputs, the CLI contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from litthemes.cli import main
from litthemes.code import LexicalCoder, aggregate, code_segments, evidence
from litthemes.codebook import load_codebook
from litthemes.config import CodeSettings, ConfigError, EmbedSettings, SegmentSettings
from litthemes.embed import embed_texts
from litthemes.segment import load_pipeline, segment
from litthemes.tables import CODES, RECORDS, SEGMENT_CODES, read_table, write_table
from workflow_helpers import segment_and_embed

ROOT = Path(__file__).resolve().parents[2]
CODEBOOK = ROOT / "config" / "codebook.yaml"


def test_codebook_has_the_study_themes_and_dimensions() -> None:
    book = load_codebook(CODEBOOK)
    study = {
        "modularization_personalization",
        "education_employment_gap",
        "credentialing_technology",
        "covid19_acceleration",
        "standardization_recognition",
        "digital_divide_access",
        "employer_acceptance_trust",
        "credential_inflation",
        "privacy_data_security",
        "competency_based_education",
        "flexible_learning_pathways",
        "assessment_practices",
        "institutional_resistance",
        "stackable_pathways",
        "lifelong_learning_upskilling",
        "digitalization_of_learning",
    }
    assert {t.id for t in book.themes} == study
    assert {c.id for c in book.by_dimension("credential_type")} == {"micro_credential", "digital_badge", "open_badge"}
    assert len(book.by_dimension("stakeholder")) == 6 and len(book.by_dimension("setting")) == 4
    assert all(t.definition and t.examples and t.include.terms for t in book.themes)
    assert len(book.source_hash) == 64


def test_codebook_errors_name_the_code(tmp_path: Path) -> None:
    data = yaml.safe_load(CODEBOOK.read_text())
    data["codes"][2]["colour"] = "red"
    data["codes"][5]["dimension"] = "nonsense"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as info:
        load_codebook(bad)
    text = str(info.value)
    assert "credentialing_technology" in text and "colour" in text


def test_lexical_matching_on_lemmas_with_exclusion_cues() -> None:
    book = load_codebook(CODEBOOK)
    coder = LexicalCoder(book, load_pipeline())
    from litthemes.segment import lemmatize

    found = coder.match(lemmatize(["Speech recognition systems were evaluated."])[0])
    assert found.get("standardization_recognition") == []  # matched, then excluded
    found = coder.match(lemmatize(["Learners stacked three certificates into a degree."])[0])
    assert found.get("stackable_pathways")
    found = coder.match(lemmatize(["Open Badges and digital badges compared."])[0])
    assert found.get("open_badge") and found.get("digital_badge") == [("digital badge", 1.0)]


# Read from the cue hits on 906 education abstracts (MOOCs, gamification, dropout, data
# science education): each cue word also has another sense, which must not carry the theme.
OTHER_SENSES = [
    ("Open Badges: a systematic review of peer-reviewed published literature.", "assessment_practices"),
    ("We searched peer-reviewed journals for studies on badges.", "assessment_practices"),
    ("Poverty slows grade advancement of seventh-grade children.", "assessment_practices"),
    ("Digital badges forging connections between informal and higher education.", "privacy_data_security"),
    ("Participants signed a consent form; observational student data came from two MOOCs.", "privacy_data_security"),
    ("Students collect their own data outdoors.", "privacy_data_security"),
    ("Universities could forge partnerships with employers.", "privacy_data_security"),
    ("Knowledge transfer between research and teaching was the aim.", "standardization_recognition"),
    ("The final survey took place 4.5 years after recruitment.", "education_employment_gap"),
    ("Curriculum managers understand how to design a course.", "employer_acceptance_trust"),
    ("Progress made by the task force on defining data science competencies.", "competency_based_education"),
    ("We list the advantages and disadvantages of each platform.", "digital_divide_access"),
    ("The main disadvantage of video lectures is their length.", "digital_divide_access"),
    ("Pupils sat standardized tests and a standardized patient took part.", "standardization_recognition"),
    ("The course was evaluated by students at the end of term.", "assessment_practices"),
    ("Intention to enrol depends on the perceived value of the course.", "employer_acceptance_trust"),
    ("Faculty skepticism slowed the adoption of online teaching.", "employer_acceptance_trust"),
]
SAME_THEME = [
    ("Peer review of student projects replaced the final exam.", "assessment_practices"),
    ("Paper certificates can be forged easily, unlike signed badges.", "privacy_data_security"),
    ("Forged credentials and diploma mills undermine trust.", "privacy_data_security"),
    ("Paper diplomas can be forged, lost or destroyed.", "privacy_data_security"),
    ("A ledger makes it nearly impossible to forge or alter academic records.", "privacy_data_security"),
    ("Credits earned in the MOOC can be transferred to a degree.", "standardization_recognition"),
    ("Employers do not trust badges from unknown issuers.", "employer_acceptance_trust"),
    ("Learners progress on demonstrated mastery of each competency.", "competency_based_education"),
    ("Badges were meant to reach disadvantaged learners.", "digital_divide_access"),
    ("Social disadvantage keeps some adults out of online courses.", "digital_divide_access"),
    ("Providers call for a standardized format for micro-credentials.", "standardization_recognition"),
    ("Employers remain sceptical about the value of badges.", "employer_acceptance_trust"),
]


def test_cues_in_another_sense_carry_nothing_and_the_theme_sense_still_does() -> None:
    from litthemes.segment import lemmatize

    coder = LexicalCoder(load_codebook(CODEBOOK), load_pipeline())
    for sentence, theme in OTHER_SENSES:
        hits = coder.match(lemmatize([sentence])[0]).get(theme, [])
        assert not [h for h in hits if h[1] >= 1.0], (sentence, hits)
    for sentence, theme in SAME_THEME:
        hits = coder.match(lemmatize([sentence])[0]).get(theme, [])
        assert [h for h in hits if h[1] >= 1.0], (sentence, hits)


def test_employers_named_are_a_cue_of_their_acceptance_not_of_the_employment_gap() -> None:
    """Naming employers or employees says who a passage is about, not that education and work
    are apart: in 2.2.2 the two words gave the employment gap a full cue's worth in "only a
    quarter of companies, one third of employer organisations and one third of employee
    organisations" and won it the main theme from employer acceptance."""
    from litthemes.segment import lemmatize

    coder = LexicalCoder(load_codebook(CODEBOOK), load_pipeline())
    hits = coder.match(lemmatize(["Employers and employees were asked whether they value badges."])[0])
    assert not hits.get("education_employment_gap")
    assert hits.get("employer_acceptance_trust")
    # The gap itself is still named through its terms and patterns.
    gap = coder.match(lemmatize(["Graduates lack the skills employers need."])[0])
    assert [h for h in gap.get("education_employment_gap", []) if h[1] >= 1.0]


def test_a_sentence_far_from_the_codebook_is_coded_only_through_cues(embed_cache: str) -> None:
    """Without a cue, a theme's probability codes a segment only where the segment is close
    to the theme's own texts: a sentence of another literature gets its most likely theme by
    extrapolation (here, 0.54 for flexible pathways), which is not evidence."""
    book = load_codebook(CODEBOOK)
    far = "Mothers with little schooling rarely read to their children at home."
    near = "Learners in remote villages could not join the online course for lack of a connection."
    records = pd.DataFrame(
        [
            {"record_id": rid, "title": "", "abstract": text, "fulltext": "", "status": "included"}
            for rid, text in (("far", far), ("near", near))
        ]
    )
    seg = segment(records)
    embed = EmbedSettings(cache_dir=embed_cache)
    vectors = embed_texts(seg["text"].tolist(), embed)

    def by_meaning(similarity: float) -> set[tuple[str, str]]:
        settings = CodeSettings(cache_dir="", semantic_only_min_similarity=similarity)
        coded = code_segments(seg, vectors, book, settings, embed_settings=embed)
        rows = coded[coded["present"] & (coded["dimension"] == "theme") & (coded["cue"] == "semantic")]
        return set(zip(rows["record_id"], rows["code"], strict=True))

    assert by_meaning(-1.0) == {("far", "flexible_learning_pathways"), ("near", "digital_divide_access")}
    assert by_meaning(CodeSettings().semantic_only_min_similarity) == {("near", "digital_divide_access")}


def test_a_main_theme_without_a_coded_segment_needs_its_evidence_near_the_codebook() -> None:
    """A record's main theme is present where no segment carries it only if the evidence
    adding up to one term's worth comes from segments near the codebook: in a long abstract
    of another literature, a few sentences each far from the codebook's texts add up too."""
    book = load_codebook(CODEBOOK)

    def rows(record_id: str, near: bool) -> list[dict[str, object]]:
        # Two segments, each under the presence bar, together more than one term's worth.
        return [
            {
                "record_id": record_id,
                "segment_index": index,
                "code": "digital_divide_access",
                "dimension": "theme",
                "lexical": 0.0,
                "semantic": 0.3,
                "score": 0.3,
                "evidence": 0.6,
                "share": 1.0,
                "near": near,
                "present": False,
                "cue": "",
            }
            for index in (1, 2)
        ]

    seg_codes = pd.DataFrame([*rows("near", True), *rows("far", False)], columns=SEGMENT_CODES.names)
    codes = aggregate(seg_codes, ["near", "far"], book, main_min_evidence=1.0).set_index(["record_id", "theme"])
    theme = codes.xs("digital_divide_access", level="theme")
    assert theme["rank"].tolist() == [1, 1]
    assert theme.loc["near", "present"] and not theme.loc["far", "present"]


def test_a_hit_names_the_term_as_the_codebook_writes_it() -> None:
    from litthemes.codebook import Code
    from litthemes.segment import lemmatize

    code = Code.model_validate(
        {
            "id": "x",
            "dimension": "theme",
            "label": "X",
            "definition": "X.",
            "include": {
                "terms": ["higher education", "learners", "learner"],
                "patterns": [[{"LEMMA": "stack"}, {"LEMMA": "credential"}]],
            },
        }
    )
    coder = LexicalCoder([code], load_pipeline())
    found = coder.match(lemmatize(["Learners in higher education stack credentials."])[0])["x"]
    # The evidence quotes "higher education", as the text and the codebook do, not its
    # lemmas "high education"; of two terms with the same lemmas, the first; a pattern's
    # hit has no written form, so its lemmas.
    assert found == [("learners", 1.0), ("higher education", 1.0), ("stack credential", 1.0)]


def test_weak_terms_overlaps_and_negation() -> None:
    from litthemes.codebook import Code
    from litthemes.segment import lemmatize

    code = Code.model_validate(
        {
            "id": "x",
            "dimension": "theme",
            "label": "X",
            "definition": "X.",
            "include": {"terms": ["skills gap", "employability"], "weak_terms": ["skills", "employer", "employers"]},
        }
    )
    coder = LexicalCoder([code], load_pipeline(), weak_weight=0.5)

    def hits(text: str) -> list[tuple[str, float]]:
        return coder.match(lemmatize([text])[0]).get("x", [])

    # A term counts 1, a weak term 0.5, and a weak term inside a term is not counted again.
    assert hits("The skills gap worries employers.") == [("skills gap", 1.0), ("employer", 0.5)]
    # After a negation a term counts as a weak one and a weak one not at all ('not only' is no negation).
    assert hits("This study does not address employability.") == [("employability", 0.5)]
    assert hits("There were no employers in the sample.") == []
    assert hits("It is not only about employability.") == [("employability", 1.0)]


def test_outputs_one_row_per_record_and_theme_with_traceable_evidence(embed_cache: str) -> None:
    book = load_codebook(CODEBOOK)
    records = pd.DataFrame(
        [
            {
                "record_id": "r1",
                "title": "Employer perceptions of digital badges",
                "status": "included",
                "abstract": "Hiring managers doubted the value of badges. Blockchain wallets could help verify them.",
                "fulltext": "",
            },
            {"record_id": "r2", "title": "A note", "status": "included", "abstract": "", "fulltext": ""},
        ]
    )
    seg = segment(records)
    settings = EmbedSettings(cache_dir=embed_cache)
    vectors = embed_texts(seg["text"].tolist(), settings)
    seg_codes = code_segments(seg, vectors, book, embed_settings=settings)
    codes = aggregate(seg_codes, ["r1", "r2"], book)
    assert len(codes) == 2 * 16 and list(codes.columns) == CODES.names
    r1 = codes[codes["record_id"] == "r1"].set_index("theme")
    assert r1.loc["employer_acceptance_trust", "present"] and r1.loc["credentialing_technology", "present"]
    assert not codes[codes["record_id"] == "r2"]["present"].any()
    assert codes["score"].between(0, 1).all()
    ev = evidence(seg_codes, seg, 3)
    for row in ev.itertuples():
        field = records.set_index("record_id").loc[row.record_id, row.field]
        assert field[row.start_char : row.end_char] == row.quote


def test_cli_code_contract(tmp_path: Path, embed_cache: str) -> None:
    records = pd.DataFrame([{c: "" for c in RECORDS.names}] * 2)
    records["record_id"] = ["x1", "x2"]
    records["source_id"] = ["1", "2"]
    records["title"] = ["Stackable micro-credentials toward a degree", "Privacy of learner data in badge systems"]
    records["year"] = [2020, 2021]
    records["status"] = "included"
    write_table(records, tmp_path / "records.parquet", RECORDS)
    segments, vectors = segment_and_embed(tmp_path / "records.parquet", embed_cache)
    result = CliRunner().invoke(
        main,
        [
            "code",
            str(tmp_path / "records.parquet"),
            "--codebook",
            str(CODEBOOK),
            "--segments",
            segments,
            "--vectors",
            vectors,
            "--out",
            str(tmp_path / "codes.parquet"),
            "--embed-settings",
            f'{{"cache_dir": "{embed_cache}"}}',
        ],
    )
    assert result.exit_code == 0, result.output
    codes = read_table(tmp_path / "codes.parquet", CODES)
    assert {"record_id", "theme", "score", "present"} <= set(codes.columns)
    assert codes["score"].dtype == float and codes["present"].dtype == bool
    assert len(codes) == 2 * 16
    top = codes.sort_values("score", ascending=False).drop_duplicates("record_id").set_index("record_id")["theme"]
    assert top["x1"] == "stackable_pathways" and top["x2"] == "privacy_data_security"


# Records the cue-edit tests code: a term can be added that only the first one has.
LADDER_RECORDS = [
    ("Stackable micro-credentials", "Learners climb a qualification ladder towards a degree."),
    ("Employer perceptions of digital badges", "Hiring managers doubted the value of badges."),
    ("Open Badges in libraries", "Librarians issue badges for information literacy."),
]


def _coded_once(
    tmp_path: Path, embed_cache: str, titled: list[tuple[str, str]]
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, CodeSettings, EmbedSettings, SegmentSettings]:
    """Records r0, r1, ... (title, abstract), their segments and vectors, coded once with
    the shipped codebook into a cache under ``tmp_path``; and the settings used."""
    import litthemes.code.run as code_run

    records = pd.DataFrame(
        [
            {"record_id": f"r{i}", "title": title, "status": "included", "abstract": abstract, "fulltext": ""}
            for i, (title, abstract) in enumerate(titled)
        ]
    )
    embed, nlp = EmbedSettings(cache_dir=embed_cache), SegmentSettings()
    settings = CodeSettings(cache_dir=str(tmp_path / "cache"))
    seg = segment(records)
    vectors = embed_texts(seg["text"].tolist(), embed)
    code_run.cached_codes(seg, vectors, load_codebook(CODEBOOK), settings, embed, nlp)
    return records, seg, vectors, settings, embed, nlp


def _records_coded(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """From now on, the records each call of ``code_segments`` in the code stage codes."""
    import litthemes.code.run as code_run

    calls: list[list[str]] = []
    real = code_run.code_segments

    def counting(segments: pd.DataFrame, *args: object, **kwargs: object) -> pd.DataFrame:
        calls.append(sorted(set(segments["record_id"])))
        return real(segments, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(code_run, "code_segments", counting)
    return calls


def test_added_records_are_the_only_ones_coded(
    tmp_path: Path, embed_cache: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import litthemes.code.run as code_run

    book = load_codebook(CODEBOOK)
    titled = [
        ("Employer perceptions of digital badges", "Hiring managers doubted the value of badges."),
        ("Stackable micro-credentials", "Credits stack into a degree."),
        ("A note", ""),
    ]
    base, seg, _, settings, embed, nlp = _coded_once(tmp_path, embed_cache, titled)
    seen = _records_coded(monkeypatch)
    real = code_run.code_segments
    grown = pd.concat(
        [
            base,
            pd.DataFrame(
                [
                    {
                        "record_id": "r9",
                        "title": "Blockchain wallets for badges",
                        "status": "included",
                        "abstract": "Issuers sign credentials.",
                        "fulltext": "",
                    }
                ]
            ),
        ],
        ignore_index=True,
    )
    seg = segment(grown)
    vectors = embed_texts(seg["text"].tolist(), embed)
    got = code_run.cached_codes(seg, vectors, book, settings, embed, nlp)
    assert seen == [["r9"]]
    pd.testing.assert_frame_equal(got, real(seg, vectors, book, settings, embed, nlp.model))
    # The order of codes is learnt from human codes only: without them the setting recodes nothing.
    ordered = settings.model_copy(update={"training_sequence": 0.4})
    code_run.cached_codes(seg, vectors, book, ordered, embed, nlp)
    assert seen[-1] == []
    # A new version, description or measured agreement changes nothing that codes a passage.
    edited = tmp_path / "codebook.yaml"
    data = yaml.safe_load(CODEBOOK.read_text())
    data["version"] = data["version"] + "-edited"
    data["description"] = "Another description."
    data.pop("agreement", None)
    edited.write_text(yaml.safe_dump(data, sort_keys=False))
    code_run.cached_codes(seg, vectors, load_codebook(edited), settings, embed, nlp)
    assert seen[-1] == []
    # An edit to a code is another cache: everything is coded again.
    data["codes"][0]["definition"] += " Also this."
    edited.write_text(yaml.safe_dump(data, sort_keys=False))
    code_run.cached_codes(seg, vectors, load_codebook(edited), settings, embed, nlp)
    assert seen[-1] == ["r0", "r1", "r2", "r9"]


def test_codebook_edit_runs_only_the_edited_codes_cues(
    tmp_path: Path, embed_cache: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import litthemes.code.run as code_run

    records, seg, vectors, settings, embed, nlp = _coded_once(tmp_path, embed_cache, LADDER_RECORDS[:2])

    runs: list[tuple[list[str], list[str]]] = []
    real_coder = code_run.LexicalCoder

    class Recording(real_coder):  # type: ignore[misc, valid-type]
        def match(self, lemmas: str) -> dict[str, list[tuple[str, float]]]:
            runs.append(([c.id for c in self.codes], [lemmas]))
            return super().match(lemmas)

    monkeypatch.setattr(code_run, "LexicalCoder", Recording)
    data = yaml.safe_load(CODEBOOK.read_text())
    data["version"] += "-edited"
    edited_code = next(c for c in data["codes"] if c["id"] == "stackable_pathways")
    edited_code["include"]["terms"].append("qualification ladder")
    edited = tmp_path / "codebook.yaml"
    edited.write_text(yaml.safe_dump(data, sort_keys=False))
    book = load_codebook(edited)

    got = code_run.cached_codes(seg, vectors, book, settings, embed, nlp)
    assert runs and {tuple(codes) for codes, _ in runs} == {("stackable_pathways",)}
    assert len(runs) == len(seg)  # every segment, for that one code
    # The same table as coding from scratch with the edited codebook, and the new cue is found.
    pd.testing.assert_frame_equal(got, code_segments(seg, vectors, book, settings, embed, nlp.model))
    assert any("qualification ladder" in cue for cue in got.loc[got["code"] == "stackable_pathways", "cue"])

    # A new record and another edit: the edited code runs on every record, the others on the new one.
    runs.clear()
    edited_code["include"]["terms"].append("credit ladder")
    edited.write_text(yaml.safe_dump(data, sort_keys=False))
    book = load_codebook(edited)
    grown = pd.concat(
        [
            records,
            pd.DataFrame(
                [
                    {
                        "record_id": "r9",
                        "title": "Blockchain wallets for badges",
                        "status": "included",
                        "abstract": "",
                        "fulltext": "",
                    }
                ]
            ),
        ],
        ignore_index=True,
    )
    seg = segment(grown)
    vectors = embed_texts(seg["text"].tolist(), embed)
    got = code_run.cached_codes(seg, vectors, book, settings, embed, nlp)
    new_lemmas = set(seg.loc[seg["record_id"] == "r9", "lemmas"])
    others = sorted(c.id for c in book.codes if c.id != "stackable_pathways")
    assert {lemmas[0] for codes, lemmas in runs if sorted(codes) == others} == new_lemmas
    assert {lemmas[0] for codes, lemmas in runs if codes == ["stackable_pathways"]} == set(seg["lemmas"])
    assert len(runs) == len(seg) + len(new_lemmas)
    pd.testing.assert_frame_equal(got, code_segments(seg, vectors, book, settings, embed, nlp.model))


def test_a_cue_edit_codes_again_only_the_records_whose_matches_changed(
    tmp_path: Path, embed_cache: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    import litthemes.code.run as code_run

    _, seg, vectors, settings, embed, nlp = _coded_once(tmp_path, embed_cache, LADDER_RECORDS)
    real = code_run.code_segments
    coded = _records_coded(monkeypatch)
    data = yaml.safe_load(CODEBOOK.read_text())
    edited = tmp_path / "codebook.yaml"

    def edit_and_code() -> pd.DataFrame:
        edited.write_text(yaml.safe_dump(data, sort_keys=False))
        book = load_codebook(edited)
        got = code_run.cached_codes(seg, vectors, book, settings, embed, nlp)
        # Whatever came from the cache, the table is the one coding from scratch gives.
        pd.testing.assert_frame_equal(got, real(seg, vectors, book, settings, embed, nlp.model))
        return got

    stackable = next(c for c in data["codes"] if c["id"] == "stackable_pathways")
    # A term found in one record codes that record again, and no other.
    stackable["include"]["terms"].append("qualification ladder")
    got = edit_and_code()
    assert coded[-1] == ["r0"]
    assert any("qualification ladder" in cue for cue in got.loc[got["code"] == "stackable_pathways", "cue"])
    # A term found nowhere, a new label or colour: nothing is coded again.
    stackable["include"]["terms"].append("credit ladder")
    stackable["label"] = "Stackable learning pathways"
    stackable["colour"] = "#123456"
    edit_and_code()
    assert coded[-1] == []
    # An exclusion that blocks a theme in one record codes that record again.
    employer = next(c for c in data["codes"] if c["id"] == "employer_acceptance_trust")
    employer.setdefault("exclude", {}).setdefault("terms", []).append("hiring manager")
    edit_and_code()
    assert coded[-1] == ["r1"]
    # What the semantic model learns from changes every record's coding.
    stackable["examples"].append("Short courses add up to a master's degree.")
    edit_and_code()
    assert coded[-1] == ["r0", "r1", "r2"]
    # Coding pruned from the cache while its key is still known is coded again, and right.
    shutil.rmtree(tmp_path / "cache" / "segment_codes")
    edit_and_code()
    assert coded[-1] == ["r0", "r1", "r2"]


def test_cue_requirements_skip_only_segments_no_cue_can_match() -> None:
    from litthemes.codebook import Code
    from litthemes.segment import lemma_string

    book = load_codebook(CODEBOOK)
    nlp = load_pipeline()
    passages = [
        text
        for texts in yaml.safe_load((ROOT / "tests" / "code" / "passages.yaml").read_text()).values()
        for text in texts
    ]
    titles = pd.read_csv(ROOT / "data" / "sample" / "microcredentials-bibliography.csv")["title"].dropna().tolist()
    lemmas = [lemma_string(doc) for doc in nlp.pipe(passages + titles)]
    coder = LexicalCoder(book, nlp)
    assert coder.requirements is not None
    filtered = coder.match_all(lemmas)
    assert sum(bool(found) for found in filtered) > 50
    assert not all(coder.may_match(text) for text in lemmas)  # the test does skip some
    coder.requirements = None
    assert coder.match_all(lemmas) == filtered
    # One code's coder (as after a codebook edit) finds that code's part of the whole.
    for code in book.codes:
        alone = LexicalCoder([code], nlp).match_all(lemmas)
        assert alone == [{k: v for k, v in found.items() if k == code.id} for found in filtered]

    def code_with(pattern: list[dict[str, object]]) -> Code:
        return Code.model_validate(
            {"id": "x", "dimension": "theme", "label": "X", "definition": "X.", "include": {"patterns": [pattern]}}
        )

    optional_first = code_with(
        [{"LEMMA": "open", "OP": "?"}, {"LEMMA": {"IN": ["Badges", "badge"]}}, {"LEMMA": {"IN": ["issue", "award"]}}]
    )
    coder = LexicalCoder([optional_first], nlp)
    assert coder.requirements == [[{"badge"}, {"issue", "award"}]]
    assert coder.may_match("we award a badge") and not coder.may_match("a badge alone")
    assert LexicalCoder([code_with([{"LOWER": "badge"}])], nlp).requirements is None  # no lemma to require
    assert LexicalCoder([code_with([{"LEMMA": "badge", "OP": "{2,3}"}])], nlp).requirements == [[{"badge"}]]
    # A term needs all its words, in any order for this test (the matcher checks the order).
    term = Code.model_validate(
        {
            "id": "y",
            "dimension": "theme",
            "label": "Y",
            "definition": "Y.",
            "include": {"terms": ["learning analytics"]},
        }
    )
    coder = LexicalCoder([term], nlp)
    assert coder.requirements is not None
    first, second = (next(iter(clause)) for clause in coder.requirements[0])
    assert coder.may_match(f"{second} of {first}") and not coder.may_match(f"{first} alone")


def test_a_new_code_with_another_codes_cues_gets_its_own_matches(tmp_path: Path) -> None:
    import litthemes.code.run as code_run
    from litthemes.config import CodeSettings, SegmentSettings

    seg = segment(
        pd.DataFrame(
            [
                {
                    "record_id": "r0",
                    "title": "Stackable micro-credentials",
                    "status": "included",
                    "abstract": "Credits stack into a degree.",
                    "fulltext": "",
                }
            ]
        )
    )
    settings, nlp = CodeSettings(cache_dir=str(tmp_path)), SegmentSettings()
    keys = code_run.record_keys(seg)
    before = code_run.cached_matches(seg, keys, load_codebook(CODEBOOK), settings, nlp)
    assert any("stackable_pathways" in found for found in before)
    data = yaml.safe_load(CODEBOOK.read_text())
    twin = dict(next(c for c in data["codes"] if c["id"] == "stackable_pathways"), id="stackable_twin")
    data["codes"].append(twin)
    (tmp_path / "codebook.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    after = code_run.cached_matches(seg, keys, load_codebook(tmp_path / "codebook.yaml"), settings, nlp)
    assert [found.get("stackable_twin") for found in after] == [found.get("stackable_pathways") for found in before]


def test_segment_vectors_come_from_the_table_in_segment_order(tmp_path: Path) -> None:
    from litthemes.code.run import _segment_vectors
    from litthemes.tables import write_matrix

    keys = pd.DataFrame({"record_id": ["a", "a", "b", "c"], "segment_index": [0, 1, 0, 0]})
    matrix = np.arange(12, dtype=np.float32).reshape(4, 3)
    write_matrix(keys, matrix, tmp_path / "v.parquet")
    wanted = pd.DataFrame({"record_id": ["c", "a"], "segment_index": [0, 1]})
    got = _segment_vectors(str(tmp_path / "v.parquet"), wanted)
    assert np.array_equal(got, matrix[[3, 1]])
    absent = pd.DataFrame({"record_id": ["a", "b"], "segment_index": [0, 4]})
    with pytest.raises(ValueError, match=r"no vector for segment 4 of record 'b'"):
        _segment_vectors(str(tmp_path / "v.parquet"), absent)


def test_theme_evidence_fades_far_from_every_prototype(embed_cache: str) -> None:
    """A sentence of another literature is out of the codebook's reach: no semantic evidence,
    and its cues ('rural', 'inequality') are another sense of the words. A sentence of this
    literature with the same cues keeps all its evidence."""
    from litthemes.code import PrototypeClassifier

    book = load_codebook(CODEBOOK)
    settings = EmbedSettings(cache_dir=embed_cache)
    texts = {
        "arch": "Grave goods from rural settlements of the Bronze Age show growing inequality between households.",
        "mc": "Rural learners without broadband face inequality in access to online micro-credentials.",
    }
    records = pd.DataFrame(
        [
            {"record_id": rid, "title": "", "abstract": text, "fulltext": "", "status": "included"}
            for rid, text in texts.items()
        ]
    )
    segments = segment(records)
    vectors = embed_texts(segments["text"].tolist(), settings)
    themes = [j for j, code in enumerate(book.codes) if code.dimension == "theme"]
    reach = PrototypeClassifier(book, settings, min_similarity=0.25).reach(vectors)[:, themes]
    rows = {rid: i for i, rid in enumerate(segments["record_id"])}
    assert (reach[rows["arch"]] < 0.5).all() and (reach[rows["mc"]] == 1).all()
    # Without the reach (every passage within it), the regression still spreads probability
    # over the themes for the unrelated sentence.
    assert PrototypeClassifier(book, settings).probabilities(segments, vectors)[rows["arch"], themes].sum() > 0.1

    coded = code_segments(segments, vectors, book, CodeSettings(cache_dir=""), settings)
    divide = coded[coded["code"] == "digital_divide_access"].set_index("record_id")
    assert bool(divide.loc["mc", "present"]) and divide.loc["mc", "lexical"] == 1.0
    # The same two terms count for less than one there.
    assert divide.loc["arch", "lexical"] < 1.0 and not divide.loc["arch", "present"]
    unrelated = coded[(coded["record_id"] == "arch") & (coded["dimension"] == "theme")]
    assert not unrelated["present"].any()


def test_reach_ramp_is_the_exact_row_by_row_value_in_any_batch() -> None:
    from litthemes.code.semantic import at_least, ramp
    from litthemes.embed import row_dot

    rng = np.random.default_rng(0)
    prototypes = rng.standard_normal((50, 32)).astype(np.float32)
    prototypes /= np.linalg.norm(prototypes, axis=1, keepdims=True)
    # Rows spread from unrelated (cosine near 0) to near a prototype (near 1).
    mix = rng.random((3000, 1)).astype(np.float32)
    rows = mix * prototypes[rng.integers(0, 50, 3000)] + (1 - mix) * rng.standard_normal((3000, 32)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    closest = row_dot(rows, prototypes).max(axis=1).astype(np.float64)
    expected = np.clip((closest - 0.25) / 0.1, 0.0, 1.0)
    assert (expected == 0).sum() > 0 and ((expected > 0) & (expected < 1)).sum() > 0 and (expected == 1).sum() > 0
    assert np.array_equal(ramp(rows, prototypes, 0.25, 0.1), expected)
    split = np.concatenate([ramp(rows[:1234], prototypes, 0.25, 0.1), ramp(rows[1234:], prototypes, 0.25, 0.1)])
    assert np.array_equal(split, expected)
    # The nearness test of coding by meaning alone: the exact value's answer, in any batch.
    near = closest >= 0.5
    assert 0 < near.sum() < len(near)
    assert np.array_equal(at_least(rows, prototypes, 0.5), near)
    assert np.array_equal(
        np.concatenate([at_least(rows[i::7], prototypes, 0.5) for i in range(7)]),
        np.concatenate([near[i::7] for i in range(7)]),
    )
