"""Broken and hostile coding files are refused with one line naming the file and the problem (exit 2)."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from litthemes.agree.readers import MAX_MEMBER_BYTES, CodingError, read_units
from litthemes.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _zip(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def hostile_files(tmp: Path) -> dict[str, tuple[Path, str]]:
    """name -> (file, what the error must say)."""
    secret = tmp / "secret.txt"
    secret.write_text("TOP SECRET")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<Project xmlns="urn:QDA-XML:project:1.0"><Sources><TextSource name="&x;"/></Sources></Project>'
    )
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<Project xmlns="urn:QDA-XML:project:1.0">&b;</Project>'
    )
    (tmp / "not-a-zip.qdpx").write_text("this is plain text")
    (tmp / "binary.csv").write_bytes(bytes(range(256)) * 20)
    # Random bytes without a NUL decode in an 8-bit encoding: their control characters give them away.
    draw = random.Random(3)
    noise = bytes(draw.randrange(1, 256) for _ in range(300))
    (tmp / "noise.csv").write_bytes(noise)
    (tmp / "broken-utf16.csv").write_bytes(b"\xff\xfeu\x00n\x00i\x00t\x00\x00\xd8")
    (tmp / "empty.csv").write_bytes(b"")
    # Text pasted into the code column: laying out such a "code" on a figure's axis ran
    # out of memory (a traceback).
    (tmp / "paragraph-code.csv").write_text("unit,code\nu1," + "words " * 40_000 + "\n")
    (tmp / "folder").mkdir()
    (tmp / "folder" / "a.txt").write_bytes(b"\x00\x01binary")
    return {
        "not a zip": (tmp / "not-a-zip.qdpx", "not a zip archive"),
        "truncated zip": (_truncated(tmp), "zip"),
        "malformed XML": (_zip(tmp / "malformed.qdpx", {"project.qde": b"<Project><Sources>"}), "not well-formed XML"),
        "external entity": (_zip(tmp / "xxe.qdpx", {"project.qde": xxe.encode()}), "entities"),
        "billion laughs": (_zip(tmp / "laughs.qdpx", {"project.qde": laughs.encode()}), "entities"),
        "no project": (_zip(tmp / "noproject.qdpx", {"readme.txt": b"hello"}), "no project.qde"),
        # A member named to climb out of a folder is read in memory, never extracted.
        "an empty project outside the archive's folder": (
            _zip(tmp / "climb.qdpx", {"../../project.qde": b'<Project xmlns="urn:QDA-XML:project:1.0"/>'}),
            "holds no text selections",
        ),
        "zip bomb": (
            _zip(
                tmp / "bomb.qdpx",
                {"project.qde": b"<a>" + b" " * (MAX_MEMBER_BYTES + 10) + b"</a>"},
                zipfile.ZIP_DEFLATED,
            ),
            "larger than",
        ),
        "binary CSV": (tmp / "binary.csv", "binary file"),
        "binary CSV without a NUL": (tmp / "noise.csv", "binary file"),
        "broken UTF-16 CSV": (tmp / "broken-utf16.csv", "broken UTF-16"),
        "empty CSV": (tmp / "empty.csv", "file is empty"),
        "a paragraph as a code": (tmp / "paragraph-code.csv", "a code is a name"),
        "binary annotated file": (tmp / "folder", "binary file"),
    }


def _truncated(tmp: Path) -> Path:
    whole = _zip(tmp / "whole.qdpx", {"project.qde": b"<Project/>" * 100})
    cut = tmp / "truncated.qdpx"
    cut.write_bytes(whole.read_bytes()[:-30])
    return cut


def test_readers_refuse_hostile_files_with_the_reason(tmp_path: Path) -> None:
    for name, (path, reason) in hostile_files(tmp_path).items():
        with pytest.raises(CodingError) as info:
            read_units(path)
        message = str(info.value)
        assert path.name in message and reason in message, (name, message)
        assert "TOP SECRET" not in message
    # Nothing was extracted beside the archives.
    assert not list(tmp_path.glob("project.qde")) and not (tmp_path / "sources").exists()


def test_agree_train_and_tune_give_one_line_and_exit_2(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("unit,code,text\nu1,x,some text\n")
    runner = CliRunner()
    for name, (path, reason) in hostile_files(tmp_path).items():
        result = runner.invoke(main, ["agree", str(path), str(good)])
        assert result.exit_code == 2, (name, result.output)
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:") and reason in lines[0], (name, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit)
        for command in ("train", "tune"):
            settings = ["--settings", '{"tune_epochs": 1, "cache_dir": ""}'] if command == "tune" else []
            result = runner.invoke(
                main, [command, str(path), "--codebook", str(ROOT / "config" / "codebook.yaml"), *settings]
            )
            assert result.exit_code == 2 and "error:" in result.output and reason in result.output, (
                command,
                name,
                result.output,
            )


def test_tables_saved_by_spreadsheets_in_other_encodings_are_read(tmp_path: Path) -> None:
    """Excel on Windows saves CSV as Windows-1252, its "Unicode text" as tab-separated UTF-16."""
    cp1252 = tmp_path / "excel.csv"
    cp1252.write_bytes("unit,code,text\nu1,privacy,Donn\xe9es \u2013 caf\xe9\n".encode("cp1252"))
    unicode_text = tmp_path / "unicode.txt"
    unicode_text.write_bytes("unit\tcode\ttext\nu1\tprivacy\tDonn\xe9es, caf\xe9\n".encode("utf-16"))
    assert read_units(cp1252)["text"].tolist() == ["Donn\xe9es \u2013 caf\xe9"]
    units = read_units(unicode_text)
    assert units[["unit", "code", "text"]].values.tolist() == [["u1", "privacy", "Donn\xe9es, caf\xe9"]]


def test_a_parser_message_spanning_lines_is_told_on_one(tmp_path: Path) -> None:
    """Found by benchmarks/fuzz_coding.py: pandas ends its message on a ragged row with a
    newline, which made the error two lines."""
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("unit,code,text\nu1,privacy,one\nu2,privacy,two,three,four\n")
    with pytest.raises(CodingError) as info:
        read_units(ragged)
    assert "\n" not in str(info.value) and "ragged.csv" in str(info.value)
    result = CliRunner().invoke(main, ["agree", str(ragged), str(ragged)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [result.output.strip()] and "Expected 3 fields" in result.output


def test_a_table_without_the_columns_names_a_few_of_them_briefly(tmp_path: Path) -> None:
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(["x" * 100] + [f"column{i}" for i in range(20)]) + "\n" + "," * 20 + "\n")
    with pytest.raises(CodingError) as info:
        read_units(wide)
    message = str(info.value)
    assert "needs a unit column" in message and "and 13 more" in message and "x" * 41 not in message


def test_a_few_line_breaks_from_word_do_not_make_a_table_binary(tmp_path: Path) -> None:
    """Text pasted from Word carries its manual line break (a vertical tab) now and then."""
    pasted = tmp_path / "pasted.csv"
    pasted.write_text("unit,code,text\nu1,privacy,First line\x0bsecond line\nu2,privacy,One\x0bTwo\x0bThree\n")
    assert read_units(pasted)["text"].tolist() == ["First line\x0bsecond line", "One\x0bTwo\x0bThree"]
