import os

import pytest

os.environ.setdefault("CURATE_CACHE_DIR", os.path.join(os.path.dirname(__file__), "..", ".curate-cache", "test"))


@pytest.fixture
def runner():
    from typer.testing import CliRunner

    return CliRunner()


@pytest.fixture(scope="session")
def vllm_engine():
    """The real in-process vLLM engine on the bundled model, opened once per test session.

    Uncached: wrap it with `open_engine(EngineConfig(cache_dir=...), engine=vllm_engine)` for the
    request cache (closing that wrapper leaves this engine open). It must start: a failure here
    fails the vllm-marked tests loudly instead of skipping them.
    """
    from curate.engines import EngineConfig, shared_engine

    # The process-wide engine: commands run in-process by tests (e.g. `curate run`) reuse it.
    yield shared_engine(EngineConfig(engine="vllm", seed=0, max_model_len=2048))


@pytest.fixture(scope="session")
def ray_cluster():
    """One local Ray for the session: 2 CPUs, a small object store, workers that can import the tests' signals."""
    ray = pytest.importorskip("ray")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    tests = os.path.join(root, "tests")
    folders = [os.path.join(tests, d) for d in sorted(os.listdir(tests)) if os.path.isdir(os.path.join(tests, d)) and not d.startswith((".", "_"))]
    path = os.pathsep.join([root, tests, *folders, os.environ.get("PYTHONPATH", "")])  # workers import the test modules by name
    ray.init(
        address="local",  # a fresh instance, whatever else runs on this machine
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=500 * 2**20,
        log_to_driver=False,
        logging_level="WARNING",
        runtime_env={"env_vars": {"PYTHONPATH": path}},
    )
    yield ray
    ray.shutdown()


@pytest.fixture
def fault_server():
    """A fault-injecting OpenAI-compatible server on 127.0.0.1 (modes: tests/engines/fault_server.py).

    Starts healthy (`mode="ok"`); set `.mode` or `.queue` to inject faults. Stopped after the test.
    """
    from engines.fault_server import FaultServer

    srv = FaultServer()
    yield srv
    srv.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI every test runs: a skip there (a missing library, a tool not installed) is a failure."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI", "").lower() in ("1", "true") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.longrepr = f"skipped in CI, where every test must run: {reason}"
