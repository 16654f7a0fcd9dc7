"""Fuzz every reader with mutated inputs and print how many escaped with an unexpected error.

    python benchmarks/fuzz_readers.py [--per-reader 10000] [--seed 1]

Inputs are mutations (byte flips, truncation, insertions, repeated lines, other
encodings, huge fields) of small valid exports and, when ../shared/corpora is
present, of the first kilobytes of real exports. A reader passes an input when it
returns records and quarantine entries that add up, or raises UnreadableFile.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import random
import sys
import tempfile
import time
import traceback
from pathlib import Path

from litthemes.ingest.readers import UnreadableFile, read_file

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"

SEEDS: dict[str, list[bytes]] = {
    "table": [b"id,title,abstract,year,doi,label\n1,Badges,Some text,2020,10.1000/x,1\n2,Credentials,More,2021,,0\n"],
    "scopus_csv": [
        b'"Authors","Title","Year","Source title","DOI","Abstract","EID"\n'
        b'"Doe J.","A","2020","J","10.1/x","Abs","2-s"\n'
    ],
    "wos_txt": [
        b"FN Clarivate\nVR 1.0\nPT J\nAU Doe, J\n   Roe, R\nTI A title\n   continued\nAB Text\nPY 2020\nER\n\nEF\n"
    ],
    "wos_tab": [b"PT\tAU\tTI\tAB\tPY\tDI\tUT\nJ\tDoe, J\tTitle\tAbstract\t2020\t10.1/x\tWOS:1\n"],
    "ris": [b"TY  - JOUR\nAU  - Doe, J.\nTI  - A title\nN2  - An abstract\nPY  - 2020\nKW  - x\nER  -\n\n"],
    "bibtex": [
        b"@article{k1,\n author={Doe, J. and Roe, R.},\n title={A {B} title},\n year={2020},\n"
        b" funding_details={a},\n funding_details={b},\n}\n@inproceedings{k2, title={Other}, year=2021}\n"
    ],
    "openalex_json": [
        b'[{"id": "W1", "title": "T", "abstract_inverted_index": {"a": [0], "b": [1]},'
        b' "publication_year": 2020, "authorships": [{"author": {"display_name": "A"}}]}]'
    ],
    "fulltext_text": [b"# A title\n\nFirst paragraph in 2021.\n\nSecond paragraph.\n"],
}
REAL = {
    "scopus_csv": "education-exports/dse-citan/scopus.csv",
    "wos_txt": "education-exports/dse-citan/wos.txt",
    "ris": "education-exports/business-analytics-education/scopus.ris",
    "bibtex": "education-exports/gamification-reviews/scopus.bib",
    "openalex_json": "openalex-synergy/Sep_2021/works_0_25.json",
    "table": "labelled/asreview-nudging/nudging.csv",
}
SUFFIX = {
    "table": ".csv",
    "scopus_csv": ".csv",
    "wos_txt": ".txt",
    "wos_tab": ".txt",
    "ris": ".ris",
    "bibtex": ".bib",
    "openalex_json": ".json",
    "fulltext_text": ".md",
}


def mutate(data: bytes, rng: random.Random) -> bytes:
    for _ in range(rng.randint(1, 4)):
        choice = rng.randrange(7)
        position = rng.randrange(len(data) + 1)
        if choice == 0 and data:
            data = data[:position]
        elif choice == 1:
            data = data[:position] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 20))) + data[position:]
        elif choice == 2 and data:
            index = rng.randrange(len(data))
            data = data[:index] + bytes([rng.randrange(256)]) + data[index + 1 :]
        elif choice == 3:
            lines = data.split(b"\n")
            if lines:
                line = rng.choice(lines)
                lines.insert(rng.randrange(len(lines) + 1), line * rng.randint(1, 3))
            data = b"\n".join(lines)
        elif choice == 4:
            with contextlib.suppress(UnicodeDecodeError):
                data = data.decode("utf-8").encode(rng.choice(["latin-1", "utf-16", "cp1252", "mac_roman"]), "replace")
        elif choice == 5:
            data = data[:position] + b"x" * rng.choice([1000, 100_000]) + data[position:]
        else:
            data = data.replace(rng.choice([b",", b"\n", b"{", b"}", b"-", b'"', b"\t"]), b"", rng.randint(1, 3))
    return data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-reader", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    seeds = {k: list(v) for k, v in SEEDS.items()}
    for fmt, name in REAL.items():
        if (CORPORA / name).exists():
            seeds[fmt].append((CORPORA / name).read_bytes()[:6000])
    failures: dict[str, collections.Counter[str]] = {}
    total_failures = 0
    with tempfile.TemporaryDirectory() as folder:
        for fmt, samples in seeds.items():
            started = time.perf_counter()
            counter: collections.Counter[str] = collections.Counter()
            outcomes: collections.Counter[str] = collections.Counter()
            for i in range(args.per_reader):
                data = mutate(rng.choice(samples), rng)
                path = Path(folder) / f"input{i % 50}{SUFFIX[fmt]}"
                path.write_bytes(data)
                try:
                    result = read_file(path, fmt)
                    assert result.read == len(result.records) + len(result.quarantined)
                    outcomes["read"] += 1
                except UnreadableFile:
                    outcomes["unreadable"] += 1
                except Exception as exc:
                    frame = traceback.extract_tb(exc.__traceback__)[-1]
                    counter[f"{type(exc).__name__} at {Path(frame.filename).name}:{frame.lineno}"] += 1
            failures[fmt] = counter
            total_failures += sum(counter.values())
            print(
                f"{fmt:15s} inputs {args.per_reader:6d}  read {outcomes['read']:6d}  unreadable "
                f"{outcomes['unreadable']:6d}  failures {sum(counter.values()):4d}  "
                f"({time.perf_counter() - started:.1f} s)"
            )
            for where, n in counter.most_common(5):
                print(f"    {n:5d} x {where}")
    print(f"total failures: {total_failures}")
    return 1 if total_failures else 0


if __name__ == "__main__":
    sys.exit(main())
