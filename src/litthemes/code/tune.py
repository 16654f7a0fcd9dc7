"""Tuning the sentence encoder on human codes (``code.tune_epochs``).

The trained classifier (:mod:`litthemes.code.train`) fits a linear model per code on
frozen sentence embeddings; what the general-purpose encoder does not tell apart (a
study's method sentence from its design sentence) no linear model can. With
``code.tune_epochs`` above 0 the encoder is first fine-tuned on the human-coded passages:
a multi-label classification head on its normalised sentence embedding, both trained
with binary cross-entropy for that many epochs (sentence-transformers' public model API
and plain torch). The head is thrown away; the tuned encoder embeds the passages, the
codebook's texts and the corpus's segments for the classifier.

A tuned encoder is written once per training set and settings into the code cache
(``<code.cache_dir>/encoders/<key>``), so reruns and shards reuse it; the embeddings it
makes go through the embedding cache under its own key. Training is seeded: on the same
machine the same passages give the same encoder, byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from litthemes.cache import ENCODERS, mark_used
from litthemes.config import CodeSettings, ConfigError, EmbedSettings
from litthemes.embed.texts import model_id, resolve_model
from litthemes.versions import CODING_MODEL

if TYPE_CHECKING:
    from litthemes.code.train import TrainingSet

log = logging.getLogger(__name__)

# What a tuning run is, beside its passages and epochs. Changing one changes every key.
TUNE_SEED = 0
BATCH = 16
ENCODER_RATE = 3e-5
HEAD_RATE = 1e-3
# Cosine similarities are in [-1, 1]: the head reads them scaled, as logits need a wider range.
LOGIT_SCALE = 10.0
TUNE_VERSION = 1


def tune_key(training: TrainingSet, embed: EmbedSettings, epochs: int) -> str:
    """Cache key of the encoder tuned on ``training``: passages, base model and recipe."""
    from litthemes.code.train import units_digest

    recipe = {
        # The passages themselves, not the set's name for them: a fold of a cross-validation is a set of its own.
        "training": units_digest(training.units),
        "model": model_id(embed.model),
        "epochs": epochs,
        "seed": TUNE_SEED,
        "batch": BATCH,
        "rates": [ENCODER_RATE, HEAD_RATE],
        "scale": LOGIT_SCALE,
        "version": TUNE_VERSION,
        "coding_model": CODING_MODEL,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:20]


def tuned_settings(
    training: TrainingSet | None, embed: EmbedSettings, epochs: int, cache_dir: str | Path | None
) -> EmbedSettings:
    """``embed`` with the encoder tuned on ``training`` (tuned now if not in the cache);
    ``embed`` itself without training or with ``epochs`` 0.

    Without a cache directory the encoder goes to the system's temporary folder (under the
    same key, so another process with the same passages finds it there).
    """
    if training is None or epochs <= 0:
        return embed
    key = tune_key(training, embed, epochs)
    root = Path(cache_dir) / ENCODERS if cache_dir else Path(tempfile.gettempdir()) / "litthemes-encoders"
    folder = root / key
    if not (folder / "modules.json").exists():
        tune_encoder(training, embed, epochs, folder)
    else:
        mark_used(folder)
        log.info("tune: encoder %s from the cache", key)
    return embed.model_copy(update={"model": str(folder)})


def tune_encoder(training: TrainingSet, embed: EmbedSettings, epochs: int, folder: Path) -> None:
    """Fine-tune ``embed.model`` on the passages' codes for ``epochs`` epochs; save it to ``folder``."""
    import torch
    from sentence_transformers import SentenceTransformer

    from litthemes.embed.texts import resolve_device

    units = training.units
    labels = sorted({code for codes in units["codes"] for code in codes})
    if not labels:
        raise ConfigError(f"code.tune_epochs: no passage of {training.source} carries a code; nothing to tune on")
    targets = np.zeros((len(units), len(labels)), dtype=np.float32)
    for row, codes in enumerate(units["codes"]):
        for code in codes:
            targets[row, labels.index(code)] = 1.0
    texts = units["text"].tolist()
    torch.manual_seed(TUNE_SEED)
    model = SentenceTransformer(resolve_model(embed.model), device=resolve_device(embed.device))
    # sentence-transformers 6 renamed these two; the pyproject allows 3.x, which has the old names only.
    dimension = getattr(model, "get_embedding_dimension", model.get_sentence_embedding_dimension)()
    prepare = getattr(model, "preprocess", model.tokenize)
    head = torch.nn.Linear(dimension or 384, len(labels))
    optimiser = torch.optim.AdamW(
        [{"params": list(model.parameters()), "lr": ENCODER_RATE}, {"params": list(head.parameters()), "lr": HEAD_RATE}]
    )
    order_of = np.random.default_rng(TUNE_SEED)
    model.train()
    for epoch in range(epochs):
        total = 0.0
        order = order_of.permutation(len(texts))
        for start in range(0, len(order), BATCH):
            rows = order[start : start + BATCH]
            features = {
                name: value.to(model.device) if isinstance(value, torch.Tensor) else value
                for name, value in prepare([texts[i] for i in rows]).items()
            }
            embedding = torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=-1)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                head(embedding) * LOGIT_SCALE, torch.from_numpy(targets[rows]).to(model.device)
            )
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach())
        batches = -(-len(order) // BATCH)
        log.info("tune: epoch %d of %d, loss %.3f per batch", epoch + 1, epochs, total / max(1, batches))
    model.eval()
    # Written next to its place and moved there whole: a reader never sees half an encoder.
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}-"))
    try:
        model.save(str(partial), create_model_card=False)
        partial.rename(folder)
    except OSError:
        shutil.rmtree(partial, ignore_errors=True)
        if not (folder / "modules.json").exists():
            raise
    log.info("tune: encoder tuned on %d passages (%d codes) written to %s", len(texts), len(labels), folder)


def tune_note(
    training_path: str, codebook_path: str, settings: dict[str, Any] | None, embed_settings: dict[str, Any] | None
) -> dict[str, Any]:
    """Tune (or find in the cache) the encoder for ``training_path`` with these settings;
    what was tuned, as the workflow's ``tune`` job records it."""
    from litthemes.code.train import load_training
    from litthemes.codebook import load_codebook

    code = CodeSettings.model_validate(settings or {})
    if code.tune_epochs <= 0:
        raise ConfigError("code.tune_epochs is 0: there is no encoder to tune")
    training = load_training(training_path, load_codebook(codebook_path))
    embed = EmbedSettings.model_validate(embed_settings or {})
    tuned = tuned_settings(training, embed, code.tune_epochs, code.cache_dir)
    return {
        "encoder": tuned.model,
        "base_model": embed.model,
        "epochs": code.tune_epochs,
        "passages": len(training.units),
        "key": tune_key(training, embed, code.tune_epochs),
    }
