"""The real transformers.Trainer (CPU, a tiny random GPT-2) reads a curate curriculum in manifest order and resumes at the exact row."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("datasets")

from curate.errors import UsageError
from curate.integrations.hf import STATE_FILE, CurriculumTrainer, check_args
from curate.order import OrderConfig, order
from curate.sampler import CurriculumSampler

pytestmark = pytest.mark.slow
ROWS, BATCH, VOCAB, LENGTH = 96, 4, 64, 24


@pytest.fixture(scope="module")
def ordered(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hf")
    rng = np.random.default_rng(3)
    texts = [" ".join(["word"] * (1 + i % 7)) + f" row {i}" for i in range(ROWS)]
    pq.write_table(
        pa.table({"id": [f"r{i:03d}" for i in range(ROWS)], "text": texts, "difficulty": rng.random(ROWS), "num": np.arange(ROWS)}),
        root / "scored.parquet",
    )
    order(OrderConfig([str(root / "scored.parquet")], str(root / "ordered"), schedule="root", batch_size=BATCH, seed=5, plot=False))
    return root / "ordered"


class Recorder(transformers.GPT2LMHeadModel):
    """A tiny GPT-2 that records which curriculum rows each forward pass trained on."""

    def __init__(self, config):
        super().__init__(config)
        self.seen: list[int] = []

    def forward(self, row_num=None, **kwargs):
        if row_num is not None:
            self.seen.extend(int(v) for v in row_num.tolist())
        return super().forward(**kwargs)


def collate(rows: list[dict]) -> dict:
    ids = torch.tensor([[ord(c) % VOCAB for c in r["text"][:LENGTH].ljust(LENGTH)] for r in rows])
    return {"input_ids": ids, "labels": ids.clone(), "row_num": torch.tensor([r["num"] for r in rows])}


def make_trainer(out: Path, sampler: CurriculumSampler, max_steps: int, save_steps: int | None = None, **kw) -> CurriculumTrainer:
    torch.manual_seed(0)
    cfg = transformers.GPT2Config(vocab_size=VOCAB, n_positions=LENGTH, n_embd=32, n_layer=1, n_head=2)
    args = transformers.TrainingArguments(
        output_dir=str(out),
        max_steps=max_steps,
        per_device_train_batch_size=BATCH,
        learning_rate=1e-3,
        report_to=[],
        use_cpu=True,
        save_strategy="steps" if save_steps else "no",
        save_steps=save_steps or 500,
        logging_steps=1000,
        disable_tqdm=True,
        dataloader_num_workers=0,
        remove_unused_columns=False,
        seed=0,
    )
    return CurriculumTrainer(model=Recorder(cfg), args=args, train_dataset=sampler.dataset, data_collator=collate, curriculum=sampler, **kw)


def manifest_nums(ordered: Path) -> list[int]:
    m = json.loads((ordered / "manifest.json").read_text())
    return [n for s in m["sets"]["curriculum"]["shards"] for n in pq.read_table(ordered / s["path"], columns=["num"])["num"].to_pylist()]


def test_trainer_reads_rows_in_manifest_order(ordered, tmp_path):
    sampler = CurriculumSampler(ordered)
    trainer = make_trainer(tmp_path / "run", sampler, max_steps=8)
    trainer.train()
    expected = manifest_nums(ordered)
    assert expected != sorted(expected)  # the curriculum is not the input order, so this test can fail
    assert trainer.model.seen == expected[: 8 * BATCH]


def test_resume_from_checkpoint_continues_at_the_exact_row(ordered, tmp_path):
    full = make_trainer(tmp_path / "full", CurriculumSampler(ordered), max_steps=10)
    full.train()
    first = make_trainer(tmp_path / "cut", CurriculumSampler(ordered), max_steps=10, save_steps=4)
    first.train()
    ckpt = tmp_path / "cut" / "checkpoint-4"
    assert (ckpt / STATE_FILE).is_file()
    resumed = make_trainer(tmp_path / "cut", CurriculumSampler(ordered), max_steps=10)
    resumed.train(resume_from_checkpoint=str(ckpt))
    assert resumed.model.seen == full.model.seen[4 * BATCH :]


def test_resume_keeps_the_replans_made_before_the_checkpoint(ordered, tmp_path):
    """A sampler that re-planned before the checkpoint resumes on the re-planned order, not the manifest's."""

    def trained(out: Path, steps: int, resume: str | None = None, save: int | None = None) -> CurriculumTrainer:
        sampler = CurriculumSampler(ordered, band="0.0:0.4")
        t = make_trainer(out, sampler, max_steps=steps, save_steps=save)

        class Feedback(transformers.TrainerCallback):
            def on_step_end(self, args, state, control, **kw):
                if state.global_step == 2 and not sampler.replans:
                    ids = sampler.dataset.select(range(sampler.position - BATCH, sampler.position))["id"]
                    sampler.update(ids, rewards=[0.0] * len(ids))
                    sampler.replan()

        t.add_callback(Feedback())
        t.train(resume_from_checkpoint=resume)
        return t

    full = trained(tmp_path / "full", 8)
    assert full.curriculum_sampler.replans  # the order after step 2 differs from the manifest's
    assert full.model.seen != manifest_nums(ordered)[: 8 * BATCH]
    trained(tmp_path / "cut", 8, save=5)
    resumed = trained(tmp_path / "cut", 8, resume=str(tmp_path / "cut" / "checkpoint-5"))
    assert resumed.model.seen == full.model.seen[5 * BATCH :]


def test_length_grouping_is_refused():
    class Args:
        group_by_length = True

    with pytest.raises(UsageError, match="group_by_length"):
        check_args(Args())

    class New:
        train_sampling_strategy = "group_by_length"

    with pytest.raises(UsageError, match="re-orders rows"):
        check_args(New())


def test_trainer_refuses_a_reordering_strategy(ordered, tmp_path):
    args = transformers.TrainingArguments(output_dir=str(tmp_path), report_to=[], use_cpu=True, train_sampling_strategy="group_by_length")
    sampler = CurriculumSampler(ordered)
    cfg = transformers.GPT2Config(vocab_size=VOCAB, n_positions=LENGTH, n_embd=32, n_layer=1, n_head=2)
    with pytest.raises(UsageError, match="undoes the curriculum"):
        CurriculumTrainer(model=Recorder(cfg), args=args, train_dataset=sampler.dataset, data_collator=collate, curriculum=sampler)


def test_loss_feedback_reaches_the_sampler_and_replans(ordered, tmp_path):
    sampler = CurriculumSampler(ordered, replan_every=2, band="0.2:0.8")
    trainer = make_trainer(tmp_path / "fb", sampler, max_steps=6, loss_feedback=True)
    trainer.train()
    obs = sampler.state_dict()["observations"]
    assert len(obs) == 6 * BATCH and all(o["loss"] > 0 for o in obs)
    by_num = {f"r{n:03d}": n for n in range(ROWS)}
    assert [by_num[o["id"]] for o in obs] == trainer.model.seen  # each loss went to the row it was computed on
    assert [o["step"] for o in obs] == [s for s in range(6) for _ in range(BATCH)]
    assert len(sampler.replans) == 3 and sampler.replans[0]["position"] >= 2 * BATCH
