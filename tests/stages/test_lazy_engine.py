"""An in-process engine starts on its first request-cache miss only: a rerun served by the cache
loads no model (the run context opens engines lazily)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from curate.engines import EngineConfig, LazyEngine, open_engine
from curate.engines.base import SamplingParams
from curate.stages import RunContext, RunSettings

ROOT = Path(__file__).resolve().parents[2]


def test_lazy_engine_starts_on_the_first_cache_miss_only(tmp_path):
    built = []

    def count(cfg):
        from curate.engines.fake import FakeEngine

        built.append(cfg)
        return FakeEngine()

    with RunContext(RunSettings(engine=EngineConfig(engine="fake"), request_cache=str(tmp_path / "rc"))) as ctx:
        eng = ctx.engine(ctx.engine_config())
        assert isinstance(eng.engine, LazyEngine) and not eng.started
        assert eng.model == "fake-model"  # known without starting it
        eng.engine._start = lambda: count(None)
        params = SamplingParams(n=2, max_tokens=8)
        first = eng.generate(["what is 2 + 2?"], params)
        assert eng.started and len(built) == 1
        assert ctx.engine(ctx.engine_config()) is eng  # one engine per settings for the whole run
    with RunContext(RunSettings(engine=EngineConfig(engine="fake"), request_cache=str(tmp_path / "rc"))) as ctx:
        again = ctx.engine(ctx.engine_config())
        again.engine._start = lambda: count(None)
        assert again.generate(["what is 2 + 2?"], params)[0].texts == first[0].texts
        assert not again.started and len(built) == 1  # served by the cache: never started


def test_a_subclass_that_builds_differently_is_started_to_learn_its_name():
    from curate.engines import model_name
    from curate.engines.base import ENGINES
    from curate.engines.fake import FakeEngine

    class Renamed(FakeEngine):
        @classmethod
        def from_config(cls, cfg):
            return cls(model="renamed")

    ENGINES.add("renamed-fake", Renamed)
    assert model_name(EngineConfig(engine="fake")) == "fake-model"
    assert model_name(EngineConfig(engine="renamed-fake")) is None
    eng = open_engine(EngineConfig(engine="renamed-fake"), cached=False, lazy=True)
    assert eng.model == "renamed" and eng.started


def _score(src: Path, out: Path, summary: Path, cache: Path) -> tuple[float, str]:
    env = {**os.environ, "CURATE_REQUEST_CACHE": str(cache), "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "curate",
            "score",
            str(src),
            "-s",
            "pass_rate",
            "--k",
            "4",
            "--max-tokens",
            "32",
            "-o",
            str(out),
            "--summary-json",
            str(summary),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert res.returncode == 0, res.stderr
    return time.perf_counter() - t0, res.stderr


@pytest.mark.vllm
def test_cached_pass_rate_rerun_loads_no_model(tmp_path):
    """12 rows, k = 4 on the real bundled model: the rerun is served by the request cache and never starts vLLM."""
    src = tmp_path / "math.jsonl"
    src.write_text("".join((ROOT / "sample_data" / "math.jsonl").read_text().splitlines(keepends=True)[:12]))
    first, noise = _score(src, tmp_path / "a.parquet", tmp_path / "a.json", tmp_path / "rc")
    second, _ = _score(src, tmp_path / "b.parquet", tmp_path / "b.json", tmp_path / "rc")
    # the engine's own notices are hidden (CURATE_DEBUG=1 shows them)
    for notice in ("FutureWarning", "DeprecationWarning", "Triton not available", "NUMA binding"):
        assert notice not in noise, noise[-3000:]
    a, b = (json.loads((tmp_path / f"{n}.json").read_text()) for n in "ab")
    assert a["engine"]["loaded"] is True and a["engine"]["name"] == "vllm"
    assert b["engine"]["loaded"] is False  # no model was loaded for the rerun
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    print(f"first run {first:.1f} s, cached rerun {second:.1f} s ({second / first:.2f}×)")
