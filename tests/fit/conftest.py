import pytest
from fitdata import write_jsonl


@pytest.fixture
def rows_file(tmp_path):
    def make(rows, name="in.jsonl"):
        return write_jsonl(tmp_path / name, rows)

    return make
