"""The trial's tokenizer, vocabulary and from-scratch model.

Tokenizer: the bundled SmolLM2 tokenizer (prepared offline by `curate.models`), or `--tokenizer
FOLDER`. Each row is tokenized once, without special tokens, truncated to `max_length` tokens.

Vocabulary: the token ids that occur in the trial's text (training rows and held-out text),
renumbered 0…V−1. A 49,152-entry output layer would spend most of a tiny model's compute on
tokens the text never uses; on a few MB of English V is a few thousand to ~20,000. With `--vocab
N`, the N−1 tokens most frequent in the training rows keep their own ids and all others share
one (the output layer's cost is tokens × V × width, which dominates a 2-layer model on a CPU).
Every arm of a trial shares the vocabulary, so the losses compare; they are not comparable with a
model over the tokenizer's whole vocabulary.

Model: `llama` (LlamaConfig) or `gpt2` (GPT2Config) with `layers` blocks of `width` (heads of 32
dimensions, MLP 4×width, tied embeddings, no dropout), or a folder with a `config.json` whose
architecture is trained from scratch (its weights are never loaded; `vocab_size` becomes V).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from curate.errors import InputError, UsageError

PRESETS = ("llama", "gpt2")
HEAD_DIM = 32


@dataclass(frozen=True)
class ModelSpec:
    model: str = "llama"  # llama | gpt2 | a folder with config.json
    layers: int = 2
    width: int = 128
    max_length: int = 128

    def check(self) -> None:
        if self.model in PRESETS and self.width % HEAD_DIM:
            raise UsageError(f"--width {self.width} is not a multiple of {HEAD_DIM}", f"use e.g. 128 or 256 (heads of {HEAD_DIM} dimensions)")
        if self.model not in PRESETS and not Path(self.model).is_dir():
            raise UsageError(
                f"--model '{self.model}' is neither a preset ({', '.join(PRESETS)}) nor a folder",
                "use --model llama, --model gpt2, or a folder holding a config.json",
            )

    def describe(self) -> dict[str, Any]:
        return {"model": self.model, "layers": self.layers, "width": self.width, "max_length": self.max_length}


def load_tokenizer(name: str | None) -> tuple[Any, str]:
    """(tokenizer, where it came from): the bundled SmolLM2 tokenizer, or a folder."""
    from curate.models import BUNDLED, offline_env, prepare

    offline_env()
    from transformers import AutoTokenizer

    path = str(prepare()) if name is None else name
    try:
        tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise InputError(
            f"--tokenizer '{path}' cannot be loaded ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})",
            "pass a folder holding a Hugging Face tokenizer, or leave --tokenizer out for the bundled SmolLM2 one",
        ) from None
    return tok, (BUNDLED if name is None else path)


@dataclass
class Vocab:
    """Token ids of the tokenizer → ids of the trial's compact vocabulary."""

    tokenizer_ids: np.ndarray  # sorted: position = trial id
    shared: bool = False  # one more id after them: every other token (a --vocab limit)

    @property
    def size(self) -> int:
        return len(self.tokenizer_ids) + int(self.shared)

    def lookup(self) -> np.ndarray:
        table = np.full(int(self.tokenizer_ids.max()) + 1, -1, dtype=np.int64)
        table[self.tokenizer_ids] = np.arange(self.size)
        return table


def tokenize(tok: Any, texts: list[str], max_length: int) -> list[list[int]]:
    out: list[list[int]] = []
    step = 2048
    for i in range(0, len(texts), step):
        enc = tok(texts[i : i + step], add_special_tokens=False, truncation=True, max_length=max_length)
        out.extend(enc["input_ids"])
    return out


def build_vocab(token_lists: list[list[int]], counted: int | None = None, max_size: int | None = None) -> tuple[Vocab, list[np.ndarray]]:
    """The compact vocabulary of these token lists, and the lists renumbered into it.

    With `max_size`, the `max_size − 1` tokens most frequent in the first `counted` lists (the
    training rows; ties: the smaller token id) keep their own ids and every other token shares
    the last one.
    """
    arrays = [np.asarray(t, dtype=np.int64) for t in token_lists]
    flat = np.concatenate([a for a in arrays if len(a)] or [np.zeros(1, dtype=np.int64)])
    seen = np.unique(flat)
    if max_size is None or len(seen) <= max_size:
        vocab = Vocab(seen)
        table = vocab.lookup()
        return vocab, [table[a] for a in arrays]
    train = arrays[: counted if counted is not None else len(arrays)]
    counts = np.bincount(np.concatenate([a for a in train if len(a)] or [np.zeros(1, dtype=np.int64)]), minlength=int(seen.max()) + 1)
    keep = np.sort(np.lexsort((np.arange(len(counts)), -counts))[: max_size - 1])
    table = np.full(len(counts), max_size - 1, dtype=np.int64)
    table[keep] = np.arange(len(keep))
    return Vocab(keep, shared=True), [table[a] for a in arrays]


def model_config(spec: ModelSpec, vocab_size: int) -> Any:
    """The transformers config of the model to train from scratch."""
    from curate.models import offline_env

    offline_env()
    import transformers

    heads = max(1, spec.width // HEAD_DIM)
    if spec.model == "llama":
        return transformers.LlamaConfig(
            vocab_size=vocab_size,
            hidden_size=spec.width,
            intermediate_size=4 * spec.width,
            num_hidden_layers=spec.layers,
            num_attention_heads=heads,
            num_key_value_heads=heads,
            max_position_embeddings=spec.max_length,
            tie_word_embeddings=True,
            attention_dropout=0.0,
            bos_token_id=None,
            eos_token_id=None,
            pad_token_id=None,
        )
    if spec.model == "gpt2":
        return transformers.GPT2Config(
            vocab_size=vocab_size,
            n_positions=spec.max_length,
            n_embd=spec.width,
            n_layer=spec.layers,
            n_head=heads,
            n_inner=4 * spec.width,
            resid_pdrop=0.0,
            embd_pdrop=0.0,
            attn_pdrop=0.0,
            tie_word_embeddings=True,
            bos_token_id=None,
            eos_token_id=None,
        )
    try:
        config = transformers.AutoConfig.from_pretrained(spec.model, local_files_only=True)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise InputError(
            f"--model '{spec.model}' cannot be loaded ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})",
            "pass a folder whose config.json names a causal-LM architecture (e.g. a Hugging Face model folder), or --model llama",
        ) from None
    config.vocab_size = vocab_size
    limit = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None)
    if limit is not None and limit < spec.max_length:
        raise UsageError(
            f"--model '{spec.model}' takes at most {limit} positions, less than --max-length {spec.max_length}", f"use --max-length {limit} or less"
        )
    return config


def build_model(config: Any) -> Any:
    """A freshly initialised causal LM for `config` (seed the RNGs first)."""
    import transformers

    try:
        return transformers.AutoModelForCausalLM.from_config(config)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InputError(
            f"cannot build a causal LM from the config of '{getattr(config, '_name_or_path', '') or config.model_type}' "
            f"({type(exc).__name__}: {str(exc).splitlines()[0][:200]})",
            "pass a folder whose config.json names a causal-LM architecture, or --model llama",
        ) from None
