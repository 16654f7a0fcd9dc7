"""Sentence encoders behind the embed stage.

Two implementations of one small interface (:class:`Encoder`):

- :class:`MeanPoolingBert` runs a BERT encoder with mean pooling (all-MiniLM-L6-v2 and
  the many sentence-transformers models built the same way) with torch's own functional
  operators, reading the weights with ``safetensors`` and the tokenizer with
  ``tokenizers``. It exists for start-up time: importing sentence-transformers (which
  imports transformers and scikit-learn) costs every embedding job of a rerun far more
  than encoding a few hundred new texts (docs/performance.md). Its vectors agree with
  sentence-transformers' to within float32 rounding (tests/embed).
- :class:`SentenceTransformerEncoder` wraps sentence-transformers for every other model.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Protocol

# What the light encoder reproduces exactly; anything else goes to sentence-transformers.
_BERT_MODULES = ["sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling"]
_NORMALIZE = "sentence_transformers.models.Normalize"


class Encoder(Protocol):
    """Unit-normalised sentence embeddings of texts padded to a given token length."""

    name: str
    device: str
    max_seq_length: int
    dimension: int

    def token_counts(self, texts: list[str]) -> list[int]:
        """Tokens per text after truncation to ``max_seq_length`` (special tokens included)."""
        ...

    def encode(self, texts: list[str], length: int) -> Any:
        """A float32 torch tensor (len(texts), dimension): each text padded to ``length`` tokens."""
        ...


def light_bert_config(path: str | Path) -> dict[str, Any] | None:
    """The model's BERT config when :class:`MeanPoolingBert` computes exactly what
    sentence-transformers would for the model folder ``path``; else None."""
    folder = Path(path)
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    types = [m.get("type") for m in modules]
    if types[:2] != _BERT_MODULES or types[2:] not in ([], [_NORMALIZE]) or modules[0].get("path"):
        return None
    mean_only = pooling.get("pooling_mode_mean_tokens") and not any(
        value for key, value in pooling.items() if key.startswith("pooling_mode_") and key != "pooling_mode_mean_tokens"
    )
    plain_bert = (
        config.get("model_type") == "bert"
        and config.get("hidden_act") == "gelu"
        and config.get("position_embedding_type", "absolute") == "absolute"
    )
    files = all((folder / name).is_file() for name in ("model.safetensors", "tokenizer.json"))
    return config if mean_only and plain_bert and files else None


def max_length_of(path: str | Path, config: dict[str, Any]) -> int:
    """Truncation length: sentence-transformers' ``max_seq_length``, else the position table."""
    try:
        settings = json.loads((Path(path) / "sentence_bert_config.json").read_text(encoding="utf-8"))
        if settings.get("max_seq_length"):
            return int(settings["max_seq_length"])
    except (OSError, ValueError):
        pass
    return int(config["max_position_embeddings"])


class MeanPoolingBert:
    """BERT forward pass, mean pooling over real tokens, unit normalisation."""

    def __init__(self, path: str | Path, device: str) -> None:
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        config = light_bert_config(path)
        if config is None:
            raise ValueError(f"{path}: not a BERT model with mean pooling; use sentence-transformers for it")
        self.name = str(path)
        self.device = device
        self.config = config
        self.max_seq_length = max_length_of(path, config)
        self.dimension = int(config["hidden_size"])
        weights = load_file(str(Path(path) / "model.safetensors"), device=device)
        # Checkpoints saved from a task model carry a "bert." prefix.
        self.weights = {key.removeprefix("bert."): value for key, value in weights.items()}
        self.tokenizer = Tokenizer.from_file(str(Path(path) / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_seq_length)
        self.pad_id = int(config.get("pad_token_id") or 0)

    def token_counts(self, texts: list[str]) -> list[int]:
        return [len(encoding.ids) for encoding in self.tokenizer.encode_batch(texts)]

    def encode(self, texts: list[str], length: int) -> Any:
        import torch

        encodings = self.tokenizer.encode_batch(texts)
        ids = torch.full((len(texts), length), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(texts), length), dtype=torch.long)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = torch.tensor(encoding.ids, dtype=torch.long)
            mask[row, : len(encoding.ids)] = 1
        return self.forward(ids.to(self.device), mask.to(self.device))

    def forward(self, ids: Any, mask: Any) -> Any:
        """Unit-normalised mean-pooled last hidden states for padded ``ids`` (float32)."""
        import torch
        import torch.nn.functional as F

        w = self.weights
        eps = float(self.config["layer_norm_eps"])
        heads = int(self.config["num_attention_heads"])
        rows, length = ids.shape
        token_types = w["embeddings.token_type_embeddings.weight"][0]
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length]
            + token_types
        )
        x = F.layer_norm(x, (self.dimension,), w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
        # Padding positions get no attention: an additive mask, as BERT's own.
        blocked = torch.zeros((rows, 1, 1, length), dtype=torch.float32, device=ids.device)
        blocked = blocked.masked_fill(~mask.bool()[:, None, None, :], torch.finfo(torch.float32).min)
        for layer in range(int(self.config["num_hidden_layers"])):
            prefix = f"encoder.layer.{layer}."

            def dense(name: str, inputs: Any, prefix: str = prefix) -> Any:
                return F.linear(inputs, w[f"{prefix}{name}.weight"], w[f"{prefix}{name}.bias"])

            def split(t: Any) -> Any:
                return t.view(rows, length, heads, -1).transpose(1, 2)

            query, key, value = (split(dense(f"attention.self.{part}", x)) for part in ("query", "key", "value"))
            attended = F.scaled_dot_product_attention(query, key, value, attn_mask=blocked.to(query.dtype))
            attended = attended.transpose(1, 2).reshape(rows, length, self.dimension)
            x = F.layer_norm(
                dense("attention.output.dense", attended) + x,
                (self.dimension,),
                w[f"{prefix}attention.output.LayerNorm.weight"],
                w[f"{prefix}attention.output.LayerNorm.bias"],
                eps,
            )
            hidden = F.gelu(dense("intermediate.dense", x))
            x = F.layer_norm(
                dense("output.dense", hidden) + x,
                (self.dimension,),
                w[f"{prefix}output.LayerNorm.weight"],
                w[f"{prefix}output.LayerNorm.bias"],
                eps,
            )
        weights = mask.unsqueeze(-1).to(x.dtype)
        pooled = (x * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
        return F.normalize(pooled.float(), dim=1)


class SentenceTransformerEncoder:
    """Any sentence-transformers model (a local folder or a hub name)."""

    def __init__(self, name: str, device: str) -> None:
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(name, device=device)
        self.tokenizer_lock = threading.Lock()
        self.name = name
        self.device = str(self.model.device)
        self.max_seq_length = int(self.model.max_seq_length or 512)
        dimension_of = (
            getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        )
        self.dimension = int(dimension_of() or 384)

    def token_counts(self, texts: list[str]) -> list[int]:
        ids = self.model.tokenizer(texts, truncation=True, max_length=self.max_seq_length)["input_ids"]
        return [len(row) for row in ids]

    def encode(self, texts: list[str], length: int) -> Any:
        import torch
        import torch.nn.functional as F

        prepare = getattr(self.model, "preprocess", None) or self.model.tokenize
        # transformers' fast tokenizers set their padding state on every call, which
        # fails when passes share the tokenizer from two threads.
        with self.tokenizer_lock:
            features = dict(prepare(texts))
        pad_id = self.model.tokenizer.pad_token_id or 0
        for key, value in features.items():
            if isinstance(value, torch.Tensor) and value.dim() == 2 and value.shape[1] < length:
                fill = pad_id if key == "input_ids" else 0
                extra = torch.full((value.shape[0], length - value.shape[1]), fill, dtype=value.dtype)
                features[key] = torch.cat([value, extra], dim=1)
        features = {k: v.to(self.model.device) if isinstance(v, torch.Tensor) else v for k, v in features.items()}
        return F.normalize(self.model.forward(features)["sentence_embedding"].float(), dim=1)
