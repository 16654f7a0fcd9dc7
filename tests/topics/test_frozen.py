"""A frozen topic model: records assigned to saved topics without refitting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from litthemes.topics.run import run

pytestmark = pytest.mark.slow


def _frozen_run(project: Path, model: Path, out: Path) -> dict[str, object]:
    interim = project / "data" / "interim"
    settings = {"frozen_model": str(model)}
    return run(
        str(interim / "records.parquet"),
        str(interim / "segments.parquet"),
        str(interim / "document_embeddings.parquet"),
        str(out / "topics.parquet"),
        str(out / "doc_topics.parquet"),
        str(out / "summary.json"),
        str(out / "hierarchy.csv"),
        settings,
        None,
        None,
        str(out / "model.parquet"),
    )


def test_fitted_records_keep_their_topics_and_new_ones_take_the_closest(workflow_run: Path, tmp_path: Path) -> None:
    saved = workflow_run / "data" / "processed" / "topic_model.parquet"
    fitted = pd.read_parquet(workflow_run / "data" / "processed" / "doc_topics.parquet")
    assert pq.read_table(saved).schema.metadata[b"litthemes.fit_summary"]

    summary = _frozen_run(workflow_run, saved, tmp_path)
    again = pd.read_parquet(tmp_path / "doc_topics.parquet")
    assert again["record_id"].tolist() == fitted["record_id"].tolist()
    assert again["topic"].tolist() == fitted["topic"].tolist()
    assert summary["assigned_to_nearest_topic"] == 0

    # Drop three records from the saved members: they are then "new" to the model.
    table = pq.read_table(saved)
    model = table.to_pandas()
    dropped = [m for members in model.loc[model["topic"] != -1, "members"] for m in members][:3]
    kept = [[i for i, m in enumerate(members) if m not in dropped] for members in model["members"]]
    model["members"] = [[members[i] for i in keep] for members, keep in zip(model["members"], kept, strict=True)]
    model["member_probabilities"] = [
        [probs[i] for i in keep] for probs, keep in zip(model["member_probabilities"], kept, strict=True)
    ]
    edited = tmp_path / "edited.parquet"
    pq.write_table(pa.Table.from_pandas(model, schema=table.schema, preserve_index=False), edited)
    summary = _frozen_run(workflow_run, edited, tmp_path)
    assert summary["assigned_to_nearest_topic"] == 3
    result = pd.read_parquet(tmp_path / "doc_topics.parquet").set_index("record_id")
    vectors = pd.read_parquet(workflow_run / "data" / "interim" / "document_embeddings.parquet").set_index("record_id")
    real = model[model["topic"] != -1]
    centroids = np.vstack(real["centroid"].to_list())
    for rid in dropped:
        closest = int(real["topic"].iloc[int(np.argmax(centroids @ np.asarray(vectors.loc[rid, "vector"])))])
        assert result.loc[rid, "topic"] == closest
    untouched = result.drop(index=dropped)["topic"]
    assert (untouched == fitted.set_index("record_id").loc[untouched.index, "topic"]).all()


def test_a_file_that_is_no_topic_model_is_named(workflow_run: Path, tmp_path: Path) -> None:
    wrong = workflow_run / "data" / "processed" / "codes.parquet"
    with pytest.raises(ValueError, match=r"frozen_model .*codes.parquet: not a topic model"):
        _frozen_run(workflow_run, wrong, tmp_path)
