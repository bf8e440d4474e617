"""The verl adapter: verl's own loader, base class and DataProto when verl is installed; a stand-in with the same attributes always."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("datasets")

from curate.errors import UsageError
from curate.integrations import verl as adapter
from curate.order import OrderConfig, order

N, B = 48, 4


@pytest.fixture(scope="module")
def ordered(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("verl")
    rng = np.random.default_rng(4)
    prompts = [[{"role": "user", "content": f"What is {i} + {i}?"}] for i in range(N)]
    pq.write_table(
        pa.table(
            {
                "id": [f"q{i:02d}" for i in range(N)],
                "prompt": prompts,
                "difficulty": rng.random(N),
                "data_source": np.where(np.arange(N) % 2 == 0, "gsm", "math"),
            }
        ),
        root / "in.parquet",
    )
    order(OrderConfig([str(root / "in.parquet")], str(root / "ordered"), schedule="linear", batch_size=B, num_samples=2 * N, seed=3, plot=False))
    return root / "ordered"


def shard_files(ordered: Path) -> list[str]:
    return [str(ordered / s["path"]) for s in json.loads((ordered / "manifest.json").read_text())["sets"]["curriculum"]["shards"]]


class RowsDataset(torch.utils.data.Dataset):
    """What verl's RLHFDataset exposes to a sampler: its rows as a datasets.Dataset in `.dataframe`."""

    def __init__(self, files: list[str]):
        import datasets

        self.dataframe = datasets.load_dataset("parquet", data_files=files, split="train")

    def __len__(self) -> int:
        return len(self.dataframe)

    def __getitem__(self, i: int) -> dict:
        return self.dataframe[i]


def data_config(ordered: Path, **sampler) -> dict:
    return {
        "train_files": shard_files(ordered),
        "dataloader_num_workers": 0,
        "sampler": {"class_path": "pkg://curate.integrations.verl", "class_name": "CurateCurriculumSampler", **sampler},
    }


def rollout_batch(ds: RowsDataset, indices: list[int], rewards: list[float], verl_proto=None):
    ids = np.array([ds.dataframe[i]["id"] for i in indices], dtype=object)
    scores = torch.zeros(len(indices), 3)
    scores[:, -1] = torch.tensor(rewards)  # verl puts a sequence's reward on its last token
    if verl_proto is not None:
        return verl_proto.from_dict(tensors={"token_level_scores": scores}, non_tensors={"id": ids})
    return SimpleNamespace(batch={"token_level_scores": scores}, non_tensor_batch={"id": ids})


def check_loop(sampler_cls, ordered: Path, proto=None) -> None:
    ds = RowsDataset(shard_files(ordered))
    s = sampler_cls(data_source=ds, data_config=data_config(ordered, replan_every=1, drop_mastered="0.7:1"))
    assert len(s) == 2 * N
    loader = torch.utils.data.DataLoader(ds, batch_size=B, sampler=s, num_workers=0, collate_fn=lambda rows: rows)
    order_ids = [r["id"] for batch in loader for r in batch]
    m = json.loads((ordered / "manifest.json").read_text())
    assert order_ids == [v for s_ in m["sets"]["curriculum"]["shards"] for v in pq.read_table(ordered / s_["path"])["id"].to_pylist()]

    s = sampler_cls(data_source=ds, data_config=data_config(ordered, replan_every=1, drop_mastered="0.7:1"))
    it = iter(s)
    seen: list[int] = []
    for _ in range(3):  # every rollout of every prompt succeeds: they are mastered
        idx = [next(it) for _ in range(B)]
        seen += idx
        s.update(rollout_batch(ds, idx * 2, [1.0] * (2 * B), proto))  # two rollouts per prompt
    assert len(s.curriculum.replans) == 3
    rest = list(it)
    mastered = {ds.dataframe[i]["id"] for i in seen}
    assert not mastered & {ds.dataframe[i]["id"] for i in rest}
    assert len(seen) + len(rest) == 2 * N - len(mastered)  # their second reads left the run


def test_with_verls_own_base_class_loader_and_dataproto(ordered):
    sampler_mod = pytest.importorskip("verl.experimental.dataset.sampler")
    from verl import DataProto
    from verl.utils.import_utils import load_extern_object

    cls = load_extern_object("pkg://curate.integrations.verl", "CurateCurriculumSampler")
    assert adapter.VERL_BASE is not None and issubclass(cls, sampler_mod.AbstractCurriculumSampler)
    check_loop(cls, ordered, DataProto)


def test_with_a_stand_in_batch(ordered):
    check_loop(adapter.CurateCurriculumSampler, ordered)


def test_finds_the_folder_from_the_train_files_and_names_bad_config(ordered, tmp_path):
    assert adapter.find_ordered_dir(shard_files(ordered)[0]) == ordered.resolve()
    with pytest.raises(UsageError, match="no curate manifest"):
        adapter.find_ordered_dir([str(tmp_path / "other.parquet")])
    ds = RowsDataset(shard_files(ordered))
    with pytest.raises(UsageError, match="data.sampler.replan is not"):
        adapter.CurateCurriculumSampler(ds, data_config(ordered, replan=3))
    s = adapter.CurateCurriculumSampler(ds, data_config(ordered, replan_every=2, band="0.2:0.8"))
    with pytest.raises(UsageError, match="no 'id'"):
        s.update(SimpleNamespace(batch={"token_level_scores": torch.zeros(1, 2)}, non_tensor_batch={"uid": np.array(["x"])}))
    with pytest.raises(UsageError, match="no 'token_level_scores'"):
        s.update(SimpleNamespace(batch={"acc": torch.zeros(1)}, non_tensor_batch={"id": np.array(["q00"])}))
