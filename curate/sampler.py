"""`CurriculumSampler`: a torch sampler that reads a curate curriculum in order and re-plans it from training feedback.

    from curate.sampler import CurriculumSampler
    sampler = CurriculumSampler("out/ordered", replan_every=50, drop_mastered="0.9:4")
    loader = torch.utils.data.DataLoader(sampler.dataset, batch_size=32, sampler=sampler)  # no shuffle
    for step, batch in enumerate(loader):
        ...                                           # train on the batch
        sampler.update(batch["id"], rewards, step=step)   # every 50 steps the unread rest is re-planned

The sampler yields indices into `sampler.dataset` — `datasets.load_dataset("parquet",
data_files=<curriculum shards in manifest order>, split="train")` unless a dataset is given — in
the manifest's order, so index i is curriculum position i. `update` records observations (the
stats format of `curate feedback`: rewards, correct, passes + k or losses); every `replan_every`
steps the positions not yet handed out are re-planned in process by `curate.feedback.replan`,
the code `curate feedback` runs. Positions already handed out never change. `state_dict()` /
`load_state_dict()` carry the plan (with every re-plan), the position, the observations and the
epoch, so a resumed run continues at the exact row.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

try:  # torch is optional for curate; the sampler needs it
    from torch.utils.data import Sampler as _Sampler
except ImportError:  # pragma: no cover - without torch there is no sampler to subclass
    _Sampler = object  # type: ignore[assignment,misc]

STATE_FORMAT = 1
OUTCOME_KEYS = ("reward", "correct", "loss", "passes", "k")


def _as_list(values: Any) -> list[Any]:
    if values is None:
        return []
    if hasattr(values, "tolist"):  # torch tensors, numpy arrays
        values = values.tolist()
    return list(values)


class CurriculumSampler(_Sampler):
    """Indices of a curate curriculum in training order, re-planned every `replan_every` steps from `update`."""

    def __init__(
        self,
        ordered_dir: str | Path,
        *,
        dataset: Any = None,
        id_field: str | None = None,
        replan_every: int | None = None,
        batch_size: int | None = None,
        drop_mastered: str | float | None = None,
        band: str | None = None,
        ucb_by: str | None = None,
        ucb_temperature: float = 0.1,
        prior_column: str | None = None,
        prior_strength: float = 2.0,
        predictor: str | None = None,
        reward_threshold: float | None = None,
        loss_success: str | float | None = "rank",
        seed: int | None = None,
    ):
        from curate.errors import UsageError, require
        from curate.feedback.replan import Strategies
        from curate.feedback.rows import PASSES, SAMPLES, load_ordered
        from curate.feedback.stats import LossSuccess, OutcomeOptions

        require("torch", "pip install 'curate[cpu]' (or any torch build)", "curate.sampler.CurriculumSampler")
        if replan_every is not None and replan_every < 1:
            raise UsageError(f"replan_every must be at least 1 step (got {replan_every})")
        self.strategies = Strategies.parse(None if drop_mastered is None else str(drop_mastered), band, ucb_by, ucb_temperature)
        if replan_every is not None and not self.strategies.describe():
            warnings.warn("replan_every without a strategy (drop_mastered, band, ucb_by) re-plans with the parent's schedule only", stacklevel=2)
        columns = [c for c in (PASSES, SAMPLES, prior_column, ucb_by) if c]
        self.run = load_ordered(ordered_dir, columns, id_field)
        self.id_field = self.run.id_field
        self.replan_every = replan_every
        self.batch_size = int(batch_size or self.run.batch_size)
        if self.batch_size < 1:
            raise UsageError(f"batch_size must be at least 1 (got {batch_size})")
        self.prior_column, self.prior_strength = prior_column, prior_strength
        self._predicted = None
        if predictor is not None:
            from curate.feedback.posterior import predict

            self._predicted = predict(self.run, predictor)  # once: the rows do not change
        self.outcomes = OutcomeOptions(reward_threshold, LossSuccess.parse(loss_success))
        self.seed = self.run.seed if seed is None else int(seed)
        self._dataset = dataset
        self._index = self._dataset_index(dataset)  # position → dataset index
        self._plan = np.arange(self.run.positions, dtype=np.int64)
        self._pos = 0
        self._epoch = 0
        self._observations: list[dict[str, Any]] = []
        self._last_replan_step = 0
        self.handed: Any = None  # a deque of the dataset indices handed out and not yet claimed (track_handed())
        self.replans: list[dict[str, Any]] = []  # what each re-plan did (position, counts)
        self.report: Any = None  # the last re-plan's StatsReport

    # -- the dataset ---------------------------------------------------------------------------
    @property
    def dataset(self) -> Any:
        """The curriculum rows as a `datasets.Dataset`, row i = curriculum position i (built on first use)."""
        if self._dataset is None:
            from curate.errors import require

            datasets = require("datasets", "pip install 'curate[hf]'", "CurriculumSampler.dataset")
            self._dataset = datasets.load_dataset("parquet", data_files=list(self.run.shards), split="train")
        return self._dataset

    def _dataset_index(self, dataset: Any) -> np.ndarray:
        from curate.errors import UsageError

        n = self.run.positions
        if dataset is None:
            return np.arange(n, dtype=np.int64)
        size = len(dataset)
        names = list(getattr(dataset, "column_names", None) or [])
        if self.id_field not in names:
            if size != n:
                raise UsageError(
                    f"the dataset has {size:,} rows, the curriculum {n:,}, and no '{self.id_field}' column to match them by",
                    "pass the curriculum rows in manifest order (e.g. the shards tokenized with .map), or keep the id column",
                )
            return np.arange(n, dtype=np.int64)
        ids = [str(v) for v in _as_list(dataset[self.id_field])]
        if size == n and ids == [str(self.run.ids[r]) for r in self.run.pos_row.tolist()]:
            return np.arange(n, dtype=np.int64)
        first: dict[str, int] = {}
        for i, v in enumerate(ids):
            first.setdefault(v, i)
        missing = [str(x) for x in self.run.ids.tolist() if str(x) not in first]
        if missing:
            raise UsageError(
                f"{len(missing):,} curriculum row(s) are not in the dataset (e.g. id {missing[0]!r})",
                "build the dataset from the ordered shards (sampler.dataset does)",
            )
        row_index = np.array([first[str(x)] for x in self.run.ids.tolist()], dtype=np.int64)
        return row_index[self.run.pos_row]

    # -- torch's Sampler ----------------------------------------------------------------------
    def __iter__(self) -> Iterator[int]:
        if self._pos >= len(self._plan):  # the run was read to its end: the next pass starts over
            self._pos = 0
            self._epoch += 1
        while self._pos < len(self._plan):
            i = self._pos
            self._pos += 1
            idx = int(self._index[self._plan[i]])
            if self.handed is not None:
                self.handed.append(idx)
            yield idx

    def __len__(self) -> int:
        return len(self._plan)

    @property
    def position(self) -> int:
        """Rows handed out in the current pass (the next one read is this curriculum position of the current plan)."""
        return self._pos

    @property
    def step(self) -> int:
        return self._pos // self.batch_size

    @property
    def epoch(self) -> int:
        return self._epoch

    def plan_indices(self) -> list[int]:
        """The whole current plan as dataset indices (read and unread)."""
        return self._index[self._plan].tolist()

    def track_handed(self) -> None:
        """Keep the indices handed out, in order, so a trainer can claim each batch's rows (`claim`)."""
        from collections import deque

        self.handed = deque()

    def claim(self, n: int) -> list[str]:
        """The ids of the next `n` rows handed out and not yet claimed (the rows of the batch being trained on)."""
        from curate.errors import UsageError

        if self.handed is None:
            raise UsageError("claim() needs track_handed() first")
        if n > len(self.handed):
            raise UsageError(
                f"claim({n}): only {len(self.handed)} row(s) were handed out and not claimed", "claim each batch once, in the order it was read"
            )
        return [self.id_of_index(self.handed.popleft()) for _ in range(n)]

    def id_of_index(self, index: int) -> str:
        """The row id of a dataset index the sampler yields."""
        if not hasattr(self, "_id_of_index"):
            ids: dict[int, str] = {}
            for pos, di in enumerate(self._index.tolist()):
                ids.setdefault(di, str(self.run.ids[self.run.pos_row[pos]]))
            self._id_of_index = ids
        return self._id_of_index[int(index)]

    def set_epoch(self, epoch: int) -> None:
        """Called by trainers at each epoch; the sampler keeps its own position (nothing to reshuffle)."""

    def rewind(self) -> None:
        """Start the current pass from its first row again (a trainer that fast-forwards by itself reads the same rows)."""
        self._pos = 0
        if self.handed is not None:
            self.handed.clear()

    # -- feedback -----------------------------------------------------------------------------
    def update(
        self,
        ids: Iterable[Any],
        rewards: Iterable[Any] | None = None,
        step: int | None = None,
        *,
        correct: Iterable[Any] | None = None,
        losses: Iterable[Any] | None = None,
        passes: Iterable[Any] | None = None,
        k: Iterable[Any] | None = None,
    ) -> None:
        """Record one observation per id (reward in [0, 1], correct, loss, or passes of k); re-plan when due.

        `step` is the training step they come from (default: the step of the last row handed out).
        """
        from curate.errors import UsageError

        id_list = [str(v) for v in _as_list(ids)]
        given = {"reward": _as_list(rewards), "correct": _as_list(correct), "loss": _as_list(losses), "passes": _as_list(passes), "k": _as_list(k)}
        for name, vals in given.items():
            if vals and len(vals) != len(id_list):
                raise UsageError(f"update: {len(id_list)} ids but {len(vals)} {name} values", "pass one value per id")
        if not any(given.values()):
            raise UsageError("update: no outcome given", "pass rewards, correct, losses or passes and k")
        at_step = max(0, (self._pos - 1) // self.batch_size) if step is None else int(step)
        for i, row_id in enumerate(id_list):
            rec: dict[str, Any] = {"id": row_id, "step": at_step}
            for name, vals in given.items():
                if vals:
                    v = vals[i]
                    rec[name] = v.item() if hasattr(v, "item") else v
            self._observations.append(rec)
        if self.replan_every is not None and self.step - self._last_replan_step >= self.replan_every:
            self.replan()

    def posterior(self) -> Any:
        """Every row's Beta posterior from the prior and the observations so far (`curate.feedback.posterior`)."""
        import polars as pl

        from curate.feedback.posterior import match, prior, update
        from curate.feedback.stats import StatsReport, observations

        post = prior(self.run, self.prior_column, self.prior_strength, self._predicted)
        report = StatsReport(source="CurriculumSampler.update")
        if self._observations:
            frame = pl.DataFrame(self._observations, infer_schema_length=None)
            obs = observations(frame, "id", self.outcomes, report)
            rows, known = match(obs, self.run, report)
            update(post, rows, known, report)
        self.report = report
        return post

    def replan(self) -> dict[str, Any]:
        """Re-plan the rows not yet handed out, now; returns what the re-plan did."""
        from curate.feedback.replan import replan

        post = self.posterior()
        res = replan(self.run, self._plan, self._pos, post, self.strategies, self.seed, salt=len(self.replans) + 1)
        self._plan = res.plan
        self._last_replan_step = self.step
        entry = {"position": res.at, "epoch": self._epoch, "counts": res.counts, "observations": self.report.used, "ignored": self.report.ignored}
        if res.mixture:
            entry["mixture"] = res.mixture
        self.replans.append(entry)
        if self.report.ignored:
            warnings.warn(
                f"CurriculumSampler: {self.report.ignored} observation(s) ignored "
                f"({self.report.unknown_ids} unknown id(s), invalid: {self.report.invalid or 'none'})",
                stacklevel=2,
            )
        return entry

    # -- checkpoints --------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue at the exact row: the plan (with re-plans), position, epoch and observations."""
        return {
            "format": STATE_FORMAT,
            "manifest_sha256": self.run.manifest_sha256,
            "position": self._pos,
            "epoch": self._epoch,
            "plan": None if not self.replans else self._plan.tolist(),
            "last_replan_step": self._last_replan_step,
            "observations": [dict(o) for o in self._observations],
            "replans": [dict(r) for r in self.replans],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        from curate.errors import UsageError

        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            raise UsageError("not a CurriculumSampler state (or from another version)", "pass what state_dict() returned")
        if state.get("manifest_sha256") != self.run.manifest_sha256:
            raise UsageError(
                "this state was saved for another curriculum (its manifest differs)",
                f"build the sampler on the folder it was saved from, not {self.run.folder}",
            )
        plan = np.arange(self.run.positions, dtype=np.int64) if state.get("plan") is None else np.asarray(state["plan"], dtype=np.int64)
        if len(plan) and (plan.min() < 0 or plan.max() >= self.run.positions):
            raise UsageError("the saved plan names positions outside this curriculum", "pass the state saved for this folder")
        pos = int(state.get("position", 0))
        if not 0 <= pos <= len(plan):
            raise UsageError(f"the saved position {pos} is outside the plan of {len(plan)} rows")
        self._plan, self._pos, self._epoch = plan, pos, int(state.get("epoch", 0))
        if self.handed is not None:
            self.handed.clear()
        self._last_replan_step = int(state.get("last_replan_step", 0))
        self._observations = [dict(o) for o in state.get("observations") or []]
        self.replans = [dict(r) for r in state.get("replans") or []]
