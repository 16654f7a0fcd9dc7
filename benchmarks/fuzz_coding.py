"""Fuzz the commands that read people's coding files and print how many inputs escaped.

    python benchmarks/fuzz_coding.py [--inputs 2000] [--train-every 20] [--measure-every 20] [--seed 1]

Inputs are mutations of small valid coding files of every kind ``litthemes agree`` and
``litthemes train`` read: a CSV and a TSV table (unit, document, position, text, code),
a REFI-QDA project (.qdpx, mutated inside the archive and as a whole) and a folder of
``{{code}}``-annotated texts. The byte mutations are those of fuzz_readers.py, and some
that bend a coding file's own structure (several codes in one cell, empty codes,
repeated units, annotation markers). An input passes when the reader returns its units
or raises CodingError naming the file, and when ``agree`` (the input against a valid
file, both ways) and, every ``--train-every``-th input, ``train`` exit with 0 or with
2 and a one-line error, never a traceback. The same for the passages a person labelled for
``litthemes codebook measure`` (YAML and CSV with text, main, others): read or refused
with ConfigError, and the command, every ``--measure-every``-th input, exits 0 or 2.
"""

from __future__ import annotations

import argparse
import collections
import io
import random
import sys
import tempfile
import time
import traceback
import zipfile
from pathlib import Path

import pandas as pd
import yaml
from click.testing import CliRunner

from litthemes.agree.readers import UNITS, CodingError, read_units
from litthemes.agree.refi import write_project
from litthemes.cli import main as cli
from litthemes.code.evaluate import read_labelled_passages
from litthemes.codebook import load_codebook
from litthemes.config import ConfigError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fuzz_readers import mutate

ROOT = Path(__file__).resolve().parents[1]
CODEBOOK = ROOT / "config" / "codebook.yaml"
THEMES = ["employer_acceptance_trust", "credentialing_technology", "lifelong_learning_upskilling", "stackable_pathways"]
# Pieces of a coding file's own syntax, inserted by the structural mutations.
PIECES = [b";", b"|", b"; ;", b",,", b'"', b"\n", b"\r\n", b"{{", b"}}", b"{{}}", b"nan", b"-1", b"1e308", b"\t"]


def table_seed(separator: str) -> bytes:
    rows = [separator.join(["unit", "document", "position", "text", "code"])]
    for document in range(6):
        for position in range(3):
            theme = THEMES[(document + position) % len(THEMES)]
            text = f"Sentence {position} of paper {document} on {theme.replace('_', ' ')}"
            rows.append(separator.join([f"u{document}.{position}", f"d{document}", str(position), text, theme]))
    return ("\n".join(rows) + "\n").encode()


def labelled_seeds() -> dict[str, bytes]:
    """Twelve passages labelled with a main theme and others, as YAML and as CSV."""
    rows = [
        {
            "text": f"Passage {k}: what {THEMES[k % len(THEMES)].replace('_', ' ')} means for badges.",
            "main": THEMES[k % len(THEMES)],
            "others": [THEMES[(k + 1) % len(THEMES)]] if k % 3 == 0 else [],
        }
        for k in range(12)
    ]
    table = pd.DataFrame({**{key: [r[key] for r in rows] for key in ("text", "main")}})
    table["others"] = ["; ".join(r["others"]) for r in rows]
    return {"labelled-yaml": yaml.safe_dump(rows).encode(), "labelled-csv": table.to_csv(index=False).encode()}


def qdpx_seed(folder: Path) -> bytes:
    records = pd.DataFrame(
        [
            {"record_id": f"r{i}", "title": f"Paper {i}", "abstract": "Employers doubt badges.", "year": 2020}
            for i in range(3)
        ]
    )
    segments = pd.DataFrame(
        [
            {
                "record_id": f"r{i}",
                "segment_index": k,
                "field": field,
                "start_char": 0,
                "end_char": len(text),
                "text": text,
            }
            for i in range(3)
            for k, (field, text) in enumerate([("title", f"Paper {i}"), ("abstract", "Employers doubt badges.")])
        ]
    )
    segment_codes = pd.DataFrame(
        [{"record_id": f"r{i}", "segment_index": 1, "code": THEMES[i % 2], "present": True} for i in range(3)]
    )
    path = folder / "seed.qdpx"
    write_project(load_codebook(CODEBOOK), records, segments, segment_codes, path)
    return path.read_bytes()


def bend(data: bytes, rng: random.Random) -> bytes:
    """Mutations of a coding file's structure: its separators, codes, units and markers."""
    lines = data.split(b"\n")
    for _ in range(rng.randint(1, 3)):
        choice = rng.randrange(3)
        if choice == 0 and lines:
            k = rng.randrange(len(lines))
            lines.insert(rng.randrange(len(lines) + 1), lines[k])  # a repeated unit
        elif choice == 1 and lines:
            k = rng.randrange(len(lines))
            cut = rng.randrange(len(lines[k]) + 1)
            lines[k] = lines[k][:cut] + rng.choice(PIECES) * rng.randint(1, 4) + lines[k][cut:]
        else:
            rng.shuffle(lines)
    return b"\n".join(lines)


def rezip(archive: bytes, rng: random.Random) -> bytes:
    """The .qdpx with its project.qde mutated inside a valid archive."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "project.qde":
                data = mutate(bend(data, rng) if rng.random() < 0.5 else data, rng)
            target.writestr(info.filename, data)
    return out.getvalue()


def one_input(kind: str, seeds: dict[str, bytes], folder: Path, i: int, rng: random.Random) -> Path:
    if kind == "folder":
        path = folder / f"annotated{i % 5}"
        path.mkdir(exist_ok=True)
        for old in path.iterdir():
            old.unlink()
        (path / "paper.txt").write_bytes(mutate(bend(seeds[kind], rng), rng))
        return path
    if kind == "qdpx":
        data = rezip(seeds[kind], rng)
    elif kind == "qdpx-bytes":
        data = mutate(seeds["qdpx"], rng)
    else:
        seed = seeds[kind]
        data = mutate(bend(seed, rng), rng) if rng.random() < 0.7 else bend(seed, rng)
    suffix = {"csv": ".csv", "tsv": ".tsv", "qdpx": ".qdpx", "qdpx-bytes": ".qdpx"}[kind]
    path = folder / f"input{i % 5}{suffix}"
    path.write_bytes(data)
    return path


def escaped(result: object) -> str | None:
    """Where a CLI run escaped (an exit other than 0 or 2, a traceback, an error not on one line)."""
    exit_code = getattr(result, "exit_code", None)
    exception = getattr(result, "exception", None)
    output = getattr(result, "output", "")
    if exception is not None and not isinstance(exception, SystemExit):
        frame = traceback.extract_tb(exception.__traceback__)[-1]
        return f"{type(exception).__name__} at {Path(frame.filename).name}:{frame.lineno}"
    if exit_code not in (0, 2):
        return f"exit {exit_code}"
    if exit_code == 2:
        # Progress logging may come before it; the error itself is the last line, and one line.
        lines = [line for line in output.splitlines() if line.strip()]
        if not lines or not lines[-1].startswith("error: ") or sum("error" in line for line in lines) > 1:
            return "not a one-line error"
        if "Traceback" in output:
            return "a traceback"
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", type=int, default=2000)
    parser.add_argument("--train-every", type=int, default=20)
    parser.add_argument("--measure-every", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    runner = CliRunner()
    failures: collections.Counter[str] = collections.Counter()
    first_output: dict[str, str] = {}
    outcomes: collections.Counter[str] = collections.Counter()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        seeds = {
            "csv": table_seed(","),
            "tsv": table_seed("\t"),
            "qdpx": qdpx_seed(folder),
            "folder": b"Employers doubt badges.\n{{employer_acceptance_trust}}\nBadges are signed.\n"
            b"{{credentialing_technology}}\n",
        }
        valid = folder / "valid.csv"
        valid.write_bytes(seeds["csv"])
        embed = '{"cache_dir": "' + str(folder / "embeddings") + '", "progress": false}'
        kinds = ["csv", "tsv", "qdpx", "qdpx-bytes", "folder"]
        for i in range(args.inputs):
            kind = kinds[i % len(kinds)]
            path = one_input(kind, seeds, folder, i, rng)
            try:
                units = read_units(path)
                assert list(units.columns) == UNITS
                outcomes["read"] += 1
            except CodingError as exc:
                outcomes["refused"] += 1
                if path.name not in str(exc):
                    failures[f"{kind}: error does not name the file"] += 1
            except Exception as exc:
                frame = traceback.extract_tb(exc.__traceback__)[-1]
                failures[f"{kind}: read_units {type(exc).__name__} at {Path(frame.filename).name}:{frame.lineno}"] += 1
            runs = [["agree", str(path), str(valid)], ["agree", str(valid), str(path)]]
            if args.train_every and i % args.train_every == 0:
                runs.append(
                    ["train", str(path), "--codebook", str(CODEBOOK), "--folds", "2", "--embed-settings", embed]
                )
            for command in runs:
                result = runner.invoke(cli, command)
                where = escaped(result)
                outcomes[f"{command[0]} runs"] += 1
                if where:
                    failures[f"{kind}: {command[0]} {where}"] += 1
                    first_output.setdefault(f"{kind}: {command[0]} {where}", result.output[-600:])
        book = load_codebook(CODEBOOK)
        labelled = labelled_seeds()
        config = folder / "config.yaml"
        config.write_text(yaml.safe_dump({"inputs": ["x.csv"], "embed": {"cache_dir": str(folder / "embeddings")}}))
        for i in range(args.inputs):
            kind = ("labelled-yaml", "labelled-csv")[i % 2]
            data = labelled[kind]
            path = folder / f"labelled{i % 5}{'.yaml' if kind == 'labelled-yaml' else '.csv'}"
            path.write_bytes(mutate(bend(data, rng), rng) if rng.random() < 0.7 else bend(data, rng))
            try:
                read_labelled_passages(path, book)
                outcomes["labelled read"] += 1
            except ConfigError as exc:
                outcomes["labelled refused"] += 1
                if path.name not in str(exc) or "\n" in str(exc):
                    failures[f"{kind}: error does not name the file on one line"] += 1
            except Exception as exc:
                frame = traceback.extract_tb(exc.__traceback__)[-1]
                failures[f"{kind}: {type(exc).__name__} at {Path(frame.filename).name}:{frame.lineno}"] += 1
            if args.measure_every and i % args.measure_every == 0:
                command = ["codebook", "measure", str(path), "--codebook", str(CODEBOOK), "--config", str(config)]
                result = runner.invoke(cli, command)
                outcomes["measure runs"] += 1
                where = escaped(result)
                if where:
                    failures[f"{kind}: measure {where}"] += 1
                    first_output.setdefault(f"{kind}: measure {where}", result.output[-600:])
    total = sum(failures.values())
    print(
        f"inputs {args.inputs}  read {outcomes['read']}  refused {outcomes['refused']}  "
        f"agree runs {outcomes['agree runs']}  train runs {outcomes['train runs']}; labelled passages: read "
        f"{outcomes['labelled read']}  refused {outcomes['labelled refused']}  measure runs "
        f"{outcomes['measure runs']}; escapes {total}  ({time.perf_counter() - started:.1f} s)"
    )
    for where, n in failures.most_common(10):
        print(f"    {n:5d} x {where}")
        if where in first_output:
            print("          " + first_output[where].strip().replace("\n", "\n          "))
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
