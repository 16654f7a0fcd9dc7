"""Time ingesting the 12,000-record Web of Science benchmark corpus (target: under 30 s).

python benchmarks/ingest_speed.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from litthemes.ingest import ingest

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "benchmark-wos-archaeology"


def main() -> int:
    if not CORPUS.is_dir():
        print(f"corpus not found: {CORPUS}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    _records, flow = ingest([str(CORPUS)])
    seconds = time.perf_counter() - start
    totals = flow["totals"]
    print(
        f"ingested {totals['read']} records from {len(flow['files'])} files in {seconds:.1f} s "
        f"({totals['read'] / seconds:.0f} records/s): included {totals['included']}, duplicates "
        f"{totals['duplicates']}, quarantined {totals['quarantined']}; with abstract {flow['fields']['abstract']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
