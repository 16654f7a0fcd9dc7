"""Is a corpus within the literature the codebook describes? The fit check's first figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from litthemes.codebook import load_codebook
from litthemes.config import EmbedSettings
from litthemes.embed import embed_texts
from litthemes.ingest import read_normalized
from litthemes.topics.align import DOMAIN_EXAMPLE_QUANTILE, domain_anchor, in_domain

ROOT = Path(__file__).resolve().parents[2]


def test_the_anchor_is_what_three_in_four_examples_reach() -> None:
    background = np.eye(4, dtype=np.float32)[:1]
    # Examples at cosines 0.1 .. 0.8 to the one background text.
    cosines = np.linspace(0.1, 0.8, 8)
    examples = np.column_stack([cosines, np.sqrt(1 - cosines**2), np.zeros(8), np.zeros(8)]).astype(np.float32)
    anchor = domain_anchor(examples, background)
    assert anchor == pytest.approx(np.quantile(cosines, DOMAIN_EXAMPLE_QUANTILE), abs=1e-6)
    assert (cosines >= anchor - 1e-6).mean() >= 0.75


@pytest.mark.corpora
def test_the_shipped_codebook_claims_its_own_literature_and_not_archaeology(corpora: Path, embed_cache: str) -> None:
    book = load_codebook(ROOT / "config" / "codebook.yaml")
    settings = EmbedSettings(cache_dir=embed_cache, progress=False)
    examples = [e for theme in book.themes for e in theme.examples]
    background = embed_texts(list(book.background), settings)
    anchor = domain_anchor(embed_texts(examples, settings), background)

    def share_within(path: Path, n: int) -> float:
        titles = [row["title"] for row in read_normalized(str(path), "auto", {})[1] if row.get("title")][:n]
        keys = pd.DataFrame({"record_id": [f"r{i}" for i in range(len(titles))]})
        flags = in_domain(keys["record_id"].tolist(), keys, embed_texts(titles, settings), background, anchor)
        return float(flags.mean())

    assert share_within(ROOT / "data" / "sample" / "microcredentials-bibliography.csv", 221) > 0.75
    assert share_within(corpora / "benchmark-wos-archaeology" / "savedrecs1.txt", 200) < 0.1
