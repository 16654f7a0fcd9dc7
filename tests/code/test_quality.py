"""Quality bar on passages written for this test: the main theme (rank 1) of each
expert-style passage is its intended theme for >= 85%.

The passages in passages.yaml were written for this test; the codebook's own
examples are different sentences. Real passages from the literature, which nobody on
this project wrote, are scored in test_literature.py.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from litthemes.code import aggregate, code_segments, main_theme
from litthemes.codebook import load_codebook
from litthemes.config import EmbedSettings
from litthemes.embed import embed_texts
from litthemes.segment import segment

HERE = Path(__file__).parent
CODEBOOK = HERE.parents[1] / "config" / "codebook.yaml"


def test_main_theme_matches_expert_theme(embed_cache: str) -> None:
    passages = yaml.safe_load((HERE / "passages.yaml").read_text())
    book = load_codebook(CODEBOOK)
    assert set(passages) == {t.id for t in book.themes}
    examples = {e for t in book.themes for e in t.examples}
    rows = []
    for theme, texts in passages.items():
        assert len(texts) >= 5
        for i, text in enumerate(texts):
            assert text not in examples
            rows.append(
                {
                    "record_id": f"{theme}#{i}",
                    "title": "",
                    "abstract": text,
                    "fulltext": "",
                    "status": "included",
                    "truth": theme,
                }
            )
    records = pd.DataFrame(rows)
    seg = segment(records)
    settings = EmbedSettings(cache_dir=embed_cache)
    codes = aggregate(
        code_segments(seg, embed_texts(seg["text"].tolist(), settings), book, embed_settings=settings),
        records["record_id"].tolist(),
        book,
    )
    predicted = records["record_id"].map(main_theme(codes))
    accuracy = float((predicted == records["truth"]).mean())
    print(f"main-theme accuracy on {len(records)} passages: {accuracy:.3f}")
    assert accuracy >= 0.85
    # The expert's theme is also marked present for most passages.
    present = codes.set_index(["record_id", "theme"])["present"]
    recall = sum(present[(r.record_id, r.truth)] for r in records.itertuples()) / len(records)
    assert recall >= 0.8
