"""compare on trainer_state.json files the real HF Trainer wrote (tiny regression model, a few CPU steps)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curate.compare import compare, read_series

pytestmark = pytest.mark.slow
MAX_STEPS, EVAL_EVERY = 20, 5
SEEDS = (0, 1, 2)  # three: a 95 % t-interval from two seeds is ±12.7 standard errors, too wide for a 20-step run


def _train(out: Path, lr: float, seed: int) -> list[dict]:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")

    class Regression(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = torch.nn.Linear(4, 1)

        def forward(self, x, labels=None):
            pred = self.lin(x).squeeze(-1)
            return {"loss": torch.nn.functional.mse_loss(pred, labels), "logits": pred}

    g = torch.Generator().manual_seed(1234)  # the same data for every run; the seed moves init and order
    x = torch.randn(256, 4, generator=g)
    y = x @ torch.tensor([1.0, -2.0, 0.5, 3.0])
    rows = [{"x": x[i], "labels": y[i]} for i in range(256)]
    args = transformers.TrainingArguments(
        output_dir=str(out),
        max_steps=MAX_STEPS,
        per_device_train_batch_size=16,
        learning_rate=lr,
        eval_strategy="steps",
        eval_steps=EVAL_EVERY,
        logging_steps=EVAL_EVERY,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        seed=seed,
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    transformers.set_seed(seed)  # before the model is built: its initial weights come from the global generator
    trainer = transformers.Trainer(model=Regression(), args=args, train_dataset=rows[:192], eval_dataset=rows[192:])
    trainer.train()
    trainer.evaluate()  # logs the last evaluation a second time at the same step
    trainer.save_state()
    return trainer.state.log_history


@pytest.fixture(scope="module")
def hf_runs(tmp_path_factory) -> dict[str, list[tuple[Path, list[dict]]]]:
    root = tmp_path_factory.mktemp("hf")
    return {
        arm: [(root / arm / f"seed-{s}", _train(root / arm / f"seed-{s}", lr, s)) for s in SEEDS]
        for arm, lr in (("baseline", 0.005), ("high-lr", 0.05))
    }


def test_reads_what_the_trainer_logged(hf_runs):
    path, history = hf_runs["baseline"][0]
    assert json.loads((path / "trainer_state.json").read_text())["log_history"] == history
    evals = [(e["step"], e["eval_loss"]) for e in history if "eval_loss" in e]
    assert evals[-1][0] == evals[-2][0] == MAX_STEPS  # the duplicate HF writes
    s = read_series(path, "eval_loss")
    assert s.format == "hf_trainer_state"
    assert list(s.steps) == list(range(EVAL_EVERY, MAX_STEPS + 1, EVAL_EVERY))
    assert list(s.values) == [v for _, v in evals[:-1]]
    train = read_series(path, "loss")
    assert list(train.values) == [e["loss"] for e in history if "loss" in e]


def test_compares_real_runs(hf_runs, tmp_path):
    arms = {arm: [str(p) for p, _ in runs] for arm, runs in hf_runs.items()}
    res = compare(arms, tmp_path / "cmp", target=5.0)
    data = res.data
    assert data["window"]["start"] == EVAL_EVERY and data["window"]["end"] == MAX_STEPS
    assert data["arms"]["baseline"]["n_runs"] == len(SEEDS) and data["vs_baseline"]["high-lr"]["pairing"] == "paired"
    # ten times the learning rate on a linear regression: a much lower loss after 20 steps, in every seed
    assert data["vs_baseline"]["high-lr"]["findings"]["final"] == "better"
    assert data["vs_baseline"]["high-lr"]["final_diff"] < 0
    assert res.png_path.stat().st_size > 0
