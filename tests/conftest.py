import os

import pytest

os.environ.setdefault("CURATE_CACHE_DIR", os.path.join(os.path.dirname(__file__), "..", ".curate-cache", "test"))


@pytest.fixture
def runner():
    from typer.testing import CliRunner

    return CliRunner()
