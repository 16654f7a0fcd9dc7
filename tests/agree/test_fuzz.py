"""Property-based tests: whatever a coding file holds, `litthemes agree` reads its units or
refuses it with one error line naming the file (exit 2); nothing else escapes.
benchmarks/fuzz_coding.py pushes harder (train included)."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from litthemes.agree.readers import UNITS, CodingError, read_units
from litthemes.cli import main

TABLE = (
    b"unit,document,position,text,code\n"
    b"u1,d1,0,Employers doubt badges,employer_acceptance_trust\n"
    b'u2,d1,1,"Badges are signed, and verifiable",credentialing_technology; employer_acceptance_trust\n'
    b"u3,d2,0,Nothing to code here,\n"
)
PROJECT = (
    b'<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="p">'
    b'<CodeBook><Codes><Code guid="c1" name="employer_acceptance_trust" isCodable="true"/></Codes></CodeBook>'
    b'<Sources><TextSource guid="s1" name="d1" plainTextPath="internal://s1.txt">'
    b'<PlainTextSelection guid="t1" startPosition="0" endPosition="9">'
    b'<Coding guid="k1"><CodeRef targetGUID="c1"/></Coding></PlainTextSelection></TextSource></Sources></Project>'
)
# Random bytes, or pieces of a coding file's own syntax (ragged rows, quotes, several codes, markup).
PIECES = [b",", b",,", b'"', b"\n", b"\r", b";", b"|", b"\t", b"<", b">", b"&", b"</Project>", b"{{", b"}}"]
INSERTS = st.one_of(st.binary(max_size=40), st.lists(st.sampled_from(PIECES), min_size=1, max_size=6).map(b"".join))


def _archive(project: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("project.qde", project)
        archive.writestr("sources/s1.txt", "Employers doubt badges.")
    return out.getvalue()


def _check(path: Path) -> None:
    try:
        units = read_units(path)
    except CodingError as exc:
        assert path.name in str(exc) and "\n" not in str(exc)
    else:
        assert list(units.columns) == UNITS
    result = CliRunner().invoke(main, ["agree", str(path), str(path)])
    assert result.exit_code in (0, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    if result.exit_code == 2:
        assert result.output.strip().splitlines()[-1].startswith("error: ")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.integers(0, len(TABLE)), insert=INSERTS, suffix=st.sampled_from([".csv", ".tsv"]))
def test_mutated_tables(cut: int, insert: bytes, suffix: str) -> None:
    data = TABLE[:cut] + insert + TABLE[cut:]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"coding{suffix}"
        path.write_bytes(data.replace(b",", b"\t") if suffix == ".tsv" else data)
        _check(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.integers(0, len(PROJECT)), insert=INSERTS, whole=st.booleans())
def test_mutated_projects(cut: int, insert: bytes, whole: bool) -> None:
    """Mutated inside a valid archive, or the archive's bytes themselves."""
    if whole:
        archive = _archive(PROJECT)
        data = archive[: cut % len(archive)] + insert + archive[cut % len(archive) :]
    else:
        data = _archive(PROJECT[:cut] + insert + PROJECT[cut:])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "project.qdpx"
        path.write_bytes(data)
        _check(path)
