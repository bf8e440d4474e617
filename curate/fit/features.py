"""What a predictor sees of a row: the feature spec (JSON) and the fitted feature state (arrays).

Feature groups (`--features`, default `signals,text,length`):

- `signals`: every numeric `score_*` column present at fit time, except the label's own signal
  (`score_pass_rate_lo` would leak `score_pass_rate`), `score_predicted*` and `difficulty`.
  Standardised; a missing value is imputed with the training median.
- `text`: hashed word 1–2-grams and character 2–5-grams (within word boundaries) of each text
  field, as sublinear TF-IDF (scikit-learn `HashingVectorizer` + `TfidfTransformer`), each block
  L2-normalised. Hashing keeps the model file free of a vocabulary and the feature space fixed.
- `length`: log(1 + characters) and log(1 + words) of each text field.
- `lm`: the engine's prompt log-probability statistics, `score_lm_perplexity` and
  `score_lm_token_entropy` (computed during `fit` when absent; at prediction time they must be
  columns of the input, from `curate score -s lm_perplexity -s lm_token_entropy`).

Extra text fields (`--extra-text solution`) get `text` and `length` features, and the default
text signals (length, compression, readability, diversity, entropy) computed on them here.

A column that the model needs is produced at prediction time by the signal that made it when
that signal is a text signal (so the `predicted` signal works on raw text, in any worker); a
column made by a model signal must be in the input.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, Field

from curate.defaults import DEFAULT_SIGNALS
from curate.errors import InputError, UsageError

GROUPS = ("signals", "text", "length", "lm")
DEFAULT_GROUPS = ("signals", "text", "length")
LM_COLUMNS = ("score_lm_perplexity", "score_lm_token_entropy")
EXCLUDED = ("difficulty",)
WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (2, 5)
HASH_BITS = 18
TOKEN_PATTERN = r"(?u)\\[A-Za-z]+|\b\w+\b|[^\w\s]"  # words, LaTeX commands and single symbols


class SignalColumn(BaseModel):
    """A numeric column fed to the model, and the signal that produces it (when known)."""

    name: str
    signal: str | None = None  # registry name; None: a column from elsewhere, needed in the input
    field: str | None = None  # text field it is computed on (None: the main text field)
    kind: str = "text"  # text | model | input


class FeatureSpec(BaseModel):
    """Everything needed to rebuild the feature matrix of a row; saved as JSON in the model folder."""

    groups: list[str] = Field(default_factory=lambda: list(DEFAULT_GROUPS))
    text_field: str = "text"
    extra_text: list[str] = Field(default_factory=list)
    columns: list[SignalColumn] = Field(default_factory=list)  # dense numeric columns, in order
    hash_bits: int = HASH_BITS
    word_ngrams: tuple[int, int] = WORD_NGRAMS
    char_ngrams: tuple[int, int] = CHAR_NGRAMS
    token_pattern: str = TOKEN_PATTERN

    @property
    def text_fields(self) -> list[str]:
        return [self.text_field, *self.extra_text]

    def dense_names(self) -> list[str]:
        names = [c.name if c.field is None else f"{c.field}:{c.name}" for c in self.columns]
        if "length" in self.groups:
            for f in self.text_fields:
                names += [f"{f}:log_chars", f"{f}:log_words"]
        return names

    def text_blocks(self) -> list[tuple[str, str]]:
        """(field, analyzer) for every TF-IDF block, in matrix order."""
        if "text" not in self.groups:
            return []
        return [(f, a) for f in self.text_fields for a in ("word", "char_wb")]

    def needed_columns(self) -> list[str]:
        """Input columns a prediction reads besides the text fields (those no text signal can rebuild)."""
        return [c.name for c in self.columns if c.kind != "text"]


def parse_groups(values: Sequence[str] | None) -> list[str]:
    """`--features` values (repeatable, comma-separated) → groups; `lm` alone adds to the defaults."""
    groups: list[str] = []
    for v in values or []:
        for g in str(v).split(","):
            g = g.strip()
            if not g:
                continue
            if g == "default":
                groups += [x for x in DEFAULT_GROUPS if x not in groups]
                continue
            if g not in GROUPS:
                raise UsageError(f"unknown feature group '{g}'", f"use one or more of: {', '.join(GROUPS)} (or default)")
            if g not in groups:
                groups.append(g)
    if not groups:
        return list(DEFAULT_GROUPS)
    if groups == ["lm"]:
        return [*DEFAULT_GROUPS, "lm"]
    return groups


def _producer(column: str) -> tuple[str | None, str]:
    """The registered signal whose output `column` is, and its kind."""
    from curate.signals import SIGNALS

    for name in SIGNALS.names():
        cls = SIGNALS.get(name)
        if column in cls.column_names():
            return name, cls.kind
    return None, "input"


def _label_signal(label: str) -> str | None:
    from curate.signals import SIGNALS

    for name in SIGNALS.names():
        if label in SIGNALS.get(name).column_names():
            return name
    return None


def build_spec(schema: pa.Schema, label: str, groups: list[str], text_field: str, extra_text: Sequence[str] = ()) -> FeatureSpec:
    """The spec for a table: which `score_*` columns to use, given the label and the groups."""
    names = schema.names
    for f in [text_field, *extra_text]:
        if f not in names:
            raise InputError(f"text column '{f}' is not in the input", f"columns: {', '.join(names)}")
    skip_signal = _label_signal(label)
    cols: list[SignalColumn] = []
    taken: set[str] = set()

    def usable(name: str) -> bool:
        if name == label or name in EXCLUDED or name.startswith("score_predicted") or name in taken:
            return False
        typ = schema.field(name).type
        return pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_boolean(typ)

    if "signals" in groups:
        for name in names:
            if not name.startswith("score_") or not usable(name) or (name in LM_COLUMNS and "lm" not in groups):
                continue
            sig, kind = _producer(name)
            if skip_signal is not None and sig == skip_signal:
                continue
            cols.append(SignalColumn(name=name, signal=sig, kind=kind))
            taken.add(name)
    if "lm" in groups:
        for name in LM_COLUMNS:
            if name not in taken:
                cols.append(SignalColumn(name=name, signal=name.removeprefix("score_"), kind="model"))
                taken.add(name)
    if "signals" in groups:
        from curate.signals import SIGNALS

        for f in extra_text:
            for sig in DEFAULT_SIGNALS:
                cls = SIGNALS.get(sig)
                for c, name in zip(cls.columns, cls.column_names()):
                    if pa.types.is_integer(c.dtype) or pa.types.is_floating(c.dtype):
                        cols.append(SignalColumn(name=name, signal=sig, field=f, kind="text"))
    return FeatureSpec(groups=groups, text_field=text_field, extra_text=list(extra_text), columns=cols)


# ----------------------------------------------------------------------------- raw features


def compute_signal_columns(table: pa.Table, spec: FeatureSpec) -> dict[str, np.ndarray]:
    """Dense signal values for every spec column: read from the table, or computed by their text signal.

    A column made by a model signal (or of unknown origin) that is not in the table is an error
    naming the command that adds it.
    """
    from curate.signals import SIGNALS, BatchContext

    out: dict[str, np.ndarray] = {}
    todo: dict[str | None, list[SignalColumn]] = {}
    for c in spec.columns:
        key = c.name if c.field is None else f"{c.field}:{c.name}"
        if c.field is None and c.name in table.column_names:
            out[key] = _as_float(table.column(c.name))
        elif c.kind == "text" and c.signal is not None:
            todo.setdefault(c.field, []).append(c)
        else:
            how = f"score the input with `-s {c.signal}` first" if c.signal else "add that column to the input"
            raise InputError(f"the model needs column '{c.name}', which the input does not have", how)
    for fld, cols in todo.items():
        ctx = BatchContext(table=table, text_field=fld or spec.text_field)
        done: dict[str, Sequence[Any]] = {}
        for sig in dict.fromkeys(c.signal for c in cols):
            done.update(SIGNALS.get(sig)().score(ctx))  # type: ignore[arg-type]
        for c in cols:
            key = c.name if c.field is None else f"{c.field}:{c.name}"
            vals = done[c.name]
            out[key] = _as_float(vals if isinstance(vals, (pa.Array, pa.ChunkedArray)) else pa.array(vals, from_pandas=True))
    return out


def _as_float(col: Any) -> np.ndarray:
    arr = col.to_numpy(zero_copy_only=False) if hasattr(col, "to_numpy") else np.asarray(col)
    out = np.array([np.nan if v is None else v for v in arr], dtype=np.float64) if arr.dtype == object else arr.astype(np.float64)
    out[~np.isfinite(out)] = np.nan
    return out


def texts_of(table: pa.Table, field: str) -> list[str]:
    return ["" if t is None else str(t) for t in table.column(field).to_pylist()]


def length_features(texts: list[str]) -> np.ndarray:
    words = [len(t.split()) for t in texts]
    return np.column_stack([np.log1p([len(t) for t in texts]), np.log1p(words)]) if texts else np.empty((0, 2))


class FeatureState:
    """The fitted part of the feature map: IDF weights per TF-IDF block, medians and scales of the dense columns.

    Everything is numbers (NPZ arrays) plus the spec (JSON): rebuilding it runs no stored code.
    """

    def __init__(
        self,
        spec: FeatureSpec,
        idf: list[np.ndarray] | None = None,
        center: np.ndarray | None = None,
        scale: np.ndarray | None = None,
        median: np.ndarray | None = None,
    ):
        self.spec = spec
        self.idf = idf or []
        self.center = center
        self.scale = scale
        self.median = median

    # ---- raw (unfitted) parts
    def vectorizer(self, analyzer: str) -> Any:
        from sklearn.feature_extraction.text import HashingVectorizer

        s = self.spec
        if analyzer == "word":
            return HashingVectorizer(
                n_features=2**s.hash_bits,
                ngram_range=tuple(s.word_ngrams),
                token_pattern=s.token_pattern,
                alternate_sign=False,
                norm=None,
                lowercase=True,
            )
        return HashingVectorizer(
            n_features=2**s.hash_bits, analyzer="char_wb", ngram_range=tuple(s.char_ngrams), alternate_sign=False, norm=None, lowercase=True
        )

    def raw(self, table: pa.Table) -> tuple[list[Any], np.ndarray]:
        """Hashed counts per text block, and the dense matrix (NaN where a value is missing)."""
        blocks = []
        texts = {f: texts_of(table, f) for f in self.spec.text_fields}
        for fld, analyzer in self.spec.text_blocks():
            blocks.append(self.vectorizer(analyzer).transform(texts[fld]))
        dense_parts = []
        if self.spec.columns:
            vals = compute_signal_columns(table, self.spec)
            dense_parts.append(np.column_stack([vals[n] for n in self.spec.dense_names()[: len(self.spec.columns)]]))
        if "length" in self.spec.groups:
            dense_parts += [length_features(texts[f]) for f in self.spec.text_fields]
        dense = np.column_stack(dense_parts) if dense_parts else np.empty((table.num_rows, 0))
        return blocks, dense

    # ---- fitting
    @classmethod
    def fit(cls, spec: FeatureSpec, blocks: list[Any], dense: np.ndarray) -> FeatureState:
        from sklearn.feature_extraction.text import TfidfTransformer

        idf = [TfidfTransformer(sublinear_tf=True).fit(b).idf_.astype(np.float64) for b in blocks]
        median = np.nanmedian(dense, axis=0) if dense.shape[1] and len(dense) else np.zeros(dense.shape[1])
        median = np.where(np.isnan(median), 0.0, median)
        filled = np.where(np.isnan(dense), median, dense)
        center = filled.mean(axis=0) if len(filled) else np.zeros(dense.shape[1])
        scale = filled.std(axis=0) if len(filled) else np.ones(dense.shape[1])
        scale = np.where(scale > 0, scale, 1.0)
        return cls(spec, idf, center, scale, median)

    def transform(self, blocks: list[Any], dense: np.ndarray) -> Any:
        """One CSR matrix: the TF-IDF blocks, then the standardised dense columns."""
        import scipy.sparse as sp
        from sklearn.feature_extraction.text import TfidfTransformer

        parts = []
        for b, idf in zip(blocks, self.idf):
            t = TfidfTransformer(sublinear_tf=True)
            t.idf_ = idf
            parts.append(t.transform(b))
        if dense.shape[1]:
            assert self.median is not None and self.center is not None and self.scale is not None  # set by fit()
            filled = np.where(np.isnan(dense), self.median, dense)
            parts.append(sp.csr_matrix((filled - self.center) / self.scale))
        if not parts:
            raise UsageError("no features selected", "use --features with at least one of: " + ", ".join(GROUPS))
        return sp.hstack(parts, format="csr", dtype=np.float64)

    def feature_names(self) -> list[str]:
        """A name per matrix column: hashed n-grams are named by their block and index."""
        names = []
        for fld, analyzer in self.spec.text_blocks():
            kind = "word" if analyzer == "word" else "char"
            names += [f"{fld}:{kind}#{i}" for i in range(2**self.spec.hash_bits)]
        return names + self.spec.dense_names()

    def n_features(self) -> int:
        return len(self.spec.text_blocks()) * 2**self.spec.hash_bits + len(self.spec.dense_names())

    def arrays(self) -> dict[str, np.ndarray]:
        out = {f"idf_{i}": a.astype(np.float32) for i, a in enumerate(self.idf)}
        out.update(center=np.asarray(self.center, np.float64), scale=np.asarray(self.scale, np.float64), median=np.asarray(self.median, np.float64))
        return out

    @classmethod
    def from_arrays(cls, spec: FeatureSpec, arrays: dict[str, np.ndarray]) -> FeatureState:
        n_blocks = len(spec.text_blocks())
        idf = [arrays[f"idf_{i}"].astype(np.float64) for i in range(n_blocks)]
        n_dense = len(spec.dense_names())
        state = cls(spec, idf, arrays["center"], arrays["scale"], arrays["median"])
        if any(len(a) != 2**spec.hash_bits for a in idf) or any(len(arrays[k]) != n_dense for k in ("center", "scale", "median")):
            raise InputError("the model's arrays do not match its feature spec", "refit the model with `curate fit`")
        return state


def name_hashed(state: FeatureState, index: int, texts: dict[str, list[str]]) -> str:
    """A readable name for a matrix column: the most frequent training n-gram that hashes to a TF-IDF index."""
    from sklearn.utils import murmurhash3_32

    n = 2**state.spec.hash_bits
    block, offset = divmod(index, n)
    blocks = state.spec.text_blocks()
    if block >= len(blocks):
        return state.spec.dense_names()[index - len(blocks) * n]
    fld, analyzer = blocks[block]
    analyze = state.vectorizer(analyzer).build_analyzer()
    counts: dict[str, int] = {}
    for t in texts.get(fld, []):
        for tok in analyze(t):
            h = murmurhash3_32(tok, seed=0, positive=False)
            if (abs(h) if h != -(2**31) else 2**31) % n == offset:
                counts[tok] = counts.get(tok, 0) + 1
    kind = "word" if analyzer == "word" else "char"
    if not counts:
        return f"{fld}:{kind}#{offset}"
    best = max(counts, key=lambda k: (counts[k], k))
    return f"{fld}:{kind} {best!r}"


def finite_or_none(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)
