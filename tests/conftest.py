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
