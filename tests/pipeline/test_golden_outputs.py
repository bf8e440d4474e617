"""Every file in pipelines/ gives the pinned outputs on the fake engine (content of every Parquet
output, rejects file and manifest; see golden.py). A change that alters any output of a pipeline
fails here; an intended change regenerates the pins with `python tests/pipeline/golden.py --update`."""

import json

import pytest
from golden import GOLDEN, PIPELINES, run_pipeline


@pytest.mark.parametrize("path", PIPELINES, ids=[p.stem for p in PIPELINES])
def test_pipeline_outputs_match_the_pins(path, tmp_path):
    pinned = json.loads(GOLDEN.read_text())
    assert path.name in pinned, f"no pins for {path.name}: run python tests/pipeline/golden.py --update"
    got = run_pipeline(path, tmp_path)
    assert got == pinned[path.name]
