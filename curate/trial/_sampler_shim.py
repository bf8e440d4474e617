"""TEMPORARY stand-in for curate.sampler.CurriculumSampler and curate.integrations.hf, removed when they land.

Reads an ordered folder's set (curriculum or baseline) as one `datasets.Dataset` in manifest
order and yields its indices in that order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from torch.utils.data import Sampler


class CurriculumSampler(Sampler[int]):
    def __init__(self, ordered_dir: str | Path, *, dataset: Any = None, id_field: str = "id", set: str = "curriculum"):
        root = Path(ordered_dir)
        manifest = json.loads((root / "manifest.json").read_text())
        files = [str(root / s["path"]) for s in manifest["sets"][set]["shards"]]
        if dataset is None:
            import datasets

            dataset = datasets.Dataset.from_parquet(files, keep_in_memory=True)
        self.dataset = dataset
        self.id_field = id_field
        self._pos = 0

    def __len__(self) -> int:
        return len(self.dataset)

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        while self._pos < n:
            i = self._pos
            self._pos += 1
            yield i
        self._pos = 0

    def state_dict(self) -> dict[str, Any]:
        return {"position": self._pos}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._pos = int(state["position"])


class CurriculumTrainerMixin:
    curriculum_sampler: Any = None

    def _get_train_sampler(self, train_dataset: Any = None) -> Any:
        return self.curriculum_sampler
