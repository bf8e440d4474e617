"""verl's curriculum-sampler interface over a curate curriculum, re-planned from the rollouts' rewards.

verl (up to 0.7.x; 0.8 removed `data.sampler.class_path`) builds the sampler named in its data
config and, after every training step, calls `update(batch)` on it when it is an
`AbstractCurriculumSampler`:

    data.train_files=[out/ordered/part-00000-of-00002.parquet,out/ordered/part-00001-of-00002.parquet]
    data.sampler.class_path=pkg://curate.integrations.verl
    data.sampler.class_name=CurateCurriculumSampler
    data.dataloader_num_workers=0
    +data.sampler.replan_every=20 +data.sampler.band=0.2:0.8         # optional: a strategy (see docs/feedback.md)

The ordered folder is the one whose manifest.json lists the first train file (or
`+data.sampler.ordered_dir=...`). `update(batch)` reads each rollout's row id from
`batch.non_tensor_batch[<id field>]` (the id column travels with the row through verl's dataset)
and its reward from `batch.batch["token_level_scores"]` summed over tokens (`+data.sampler.reward_key`
to choose another), then hands them to `CurriculumSampler.update`: every `replan_every` steps the
prompts not yet drawn are re-planned with the code of `curate feedback`.

When verl is installed the class derives from verl's own `AbstractCurriculumSampler` (so verl's
trainer calls `update`); without verl it derives from torch's `Sampler` with the same methods.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from curate.errors import UsageError

try:
    from verl.experimental.dataset.sampler import AbstractCurriculumSampler as _Base

    VERL_BASE: str | None = "verl.experimental.dataset.sampler.AbstractCurriculumSampler"
except ImportError:  # verl absent, or a version without the curriculum interface
    from torch.utils.data import Sampler as _Base  # type: ignore[assignment]

    VERL_BASE = None

OPTIONS = (
    "ordered_dir",
    "id_field",
    "reward_key",
    "replan_every",
    "drop_mastered",
    "band",
    "ucb_by",
    "ucb_temperature",
    "reward_threshold",
    "prior_column",
    "prior_strength",
    "seed",
)


def _plain(cfg: Any) -> dict[str, Any]:
    if cfg is None:
        return {}
    try:
        from omegaconf import DictConfig, OmegaConf

        if isinstance(cfg, DictConfig):
            return dict(OmegaConf.to_container(cfg, resolve=True))  # type: ignore[arg-type, unused-ignore]  # typed only where omegaconf is installed
    except ImportError:
        pass
    return dict(cfg)


def find_ordered_dir(train_files: Any) -> Path:
    """The `curate order` folder whose manifest lists the first train file."""
    import json

    files = [train_files] if isinstance(train_files, str) else list(train_files or [])
    if not files:
        raise UsageError("verl's data.train_files is empty, so the curriculum folder cannot be found", "set +data.sampler.ordered_dir=DIR")
    first = Path(str(files[0])).resolve()
    for folder in list(first.parents)[:3]:
        m = folder / "manifest.json"
        if m.is_file():
            try:
                shards = json.loads(m.read_text())["sets"]["curriculum"]["shards"]
            except (ValueError, KeyError, TypeError):
                continue
            if any((folder / s["path"]).resolve() == first for s in shards):
                return folder
    raise UsageError(f"no curate manifest lists {files[0]}", "train on the shards of a `curate order` folder, or set +data.sampler.ordered_dir=DIR")


class CurateCurriculumSampler(_Base):
    """verl's `AbstractCurriculumSampler` over a curate curriculum: `__init__(data_source, data_config)`, `__iter__`, `__len__`, `update(batch)`."""

    def __init__(self, data_source: Any, data_config: Any):
        from curate.sampler import CurriculumSampler

        data = _plain(data_config)
        cfg = _plain(data.get("sampler"))
        unknown = sorted(k for k in cfg if k not in OPTIONS + ("class_path", "class_name"))
        if unknown:
            raise UsageError(f"data.sampler.{unknown[0]} is not a curate sampler option", f"use: {', '.join(OPTIONS)}")
        folder = cfg.get("ordered_dir") or find_ordered_dir(data.get("train_files"))
        self.data_source = data_source
        self.reward_key = cfg.get("reward_key") or "token_level_scores"
        rows = getattr(data_source, "dataframe", data_source)  # verl's RLHFDataset keeps its rows (a datasets.Dataset) there
        self.curriculum = CurriculumSampler(
            folder,
            dataset=rows,
            id_field=cfg.get("id_field"),
            replan_every=cfg.get("replan_every"),
            drop_mastered=cfg.get("drop_mastered"),
            band=cfg.get("band"),
            ucb_by=cfg.get("ucb_by"),
            ucb_temperature=float(cfg.get("ucb_temperature", 0.1)),
            reward_threshold=cfg.get("reward_threshold"),
            prior_column=cfg.get("prior_column"),
            prior_strength=float(cfg.get("prior_strength", 2.0)),
            seed=cfg.get("seed"),
        )
        self.id_key = self.curriculum.id_field

    def __iter__(self) -> Any:
        return iter(self.curriculum)

    def __len__(self) -> int:
        return len(self.curriculum)

    def update(self, batch: Any) -> None:
        """One observation per rollout: the row id from `non_tensor_batch`, the reward summed over its tokens."""
        non_tensor = getattr(batch, "non_tensor_batch", None) or {}
        if self.id_key not in non_tensor:
            raise UsageError(
                f"the batch carries no '{self.id_key}' (non-tensor keys: {', '.join(sorted(non_tensor)) or 'none'})",
                "keep the id column in the training parquet; verl passes row fields through non_tensor_batch",
            )
        tensors = getattr(batch, "batch", None)
        if tensors is None or self.reward_key not in tensors.keys():
            have = ", ".join(sorted(tensors.keys())) if tensors is not None else "none"
            raise UsageError(
                f"the batch carries no '{self.reward_key}' tensor (tensors: {have})", "set +data.sampler.reward_key to the reward tensor"
            )
        scores = tensors[self.reward_key]
        rewards = scores.sum(dim=-1) if scores.dim() > 1 else scores
        self.curriculum.update(list(non_tensor[self.id_key]), rewards.float().tolist())

    def state_dict(self) -> dict[str, Any]:
        return self.curriculum.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.curriculum.load_state_dict(state)
