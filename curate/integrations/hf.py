"""HF `transformers.Trainer` reading a curate curriculum in order.

    from curate.integrations.hf import CurriculumTrainer
    from curate.sampler import CurriculumSampler
    sampler = CurriculumSampler("out/ordered")
    trainer = CurriculumTrainer(model=model, args=args, train_dataset=tokenized, curriculum=sampler)
    trainer.train()                                   # rows in manifest order
    trainer.train(resume_from_checkpoint=True)        # continues at the exact row

`Trainer` builds a `RandomSampler` in `_get_train_sampler`, which would undo the curriculum; the
mixin returns the curriculum sampler instead (old and new signatures: recent versions pass
`train_dataset`). A length-grouping or batch-rebalancing sampler would re-order rows too, so
`group_by_length=True` (or `train_sampling_strategy` `group_by_length` / `batch_rebalance`) is
refused. With `loss_feedback=True` every row's mean token loss goes to `sampler.update(ids,
losses=...)` as it is trained on (the loss is a proxy for success: see `curate.feedback.stats`),
so a sampler built with `replan_every` re-plans the unread rest in process. Each checkpoint gets `curate_sampler.json` (the sampler's `state_dict()`); resuming loads
it — the plan with every re-plan — and lets the Trainer fast-forward its own count of batches
through that plan, so the next row is the one the interrupted run would have read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from curate.errors import UsageError, require

STATE_FILE = "curate_sampler.json"
REORDERING = ("group_by_length", "batch_rebalance")

_transformers = require("transformers", "pip install 'curate[cpu]' (or transformers)", "curate.integrations.hf")


class CurriculumMixin:
    """Mix into a `transformers.Trainer` subclass: the train sampler is the curriculum's."""

    def __init__(self, *args: Any, curriculum: Any, loss_feedback: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        from curate.sampler import CurriculumSampler

        if isinstance(curriculum, (str, Path)):
            curriculum = CurriculumSampler(curriculum, dataset=getattr(self, "train_dataset", None))
        if not isinstance(curriculum, CurriculumSampler):
            raise UsageError(f"curriculum must be a CurriculumSampler or an ordered folder, not {type(curriculum).__name__}")
        self.curriculum_sampler = curriculum
        check_args(self.args)  # type: ignore[attr-defined]
        self.loss_feedback = loss_feedback
        if loss_feedback:
            if getattr(self.args, "world_size", 1) > 1:  # type: ignore[attr-defined]
                raise UsageError("loss_feedback works in a single process", "collect per-row losses yourself and call sampler.update on one rank")
            curriculum.track_handed()

    def compute_loss(self, model: Any, inputs: Any, return_outputs: bool = False, **kwargs: Any) -> Any:
        """The Trainer's loss; with `loss_feedback`, also each row's mean token loss handed to the sampler (`update(ids, losses=...)`)."""
        if not self.loss_feedback:
            return super().compute_loss(model, inputs, return_outputs=return_outputs, **kwargs)  # type: ignore[misc]
        labels = inputs.get("labels")
        loss, outputs = super().compute_loss(model, inputs, return_outputs=True, **kwargs)  # type: ignore[misc]
        logits = outputs["logits"] if isinstance(outputs, dict) else outputs.logits
        if labels is not None and logits is not None:
            rows = per_row_loss(logits.detach(), labels)
            ids = self.curriculum_sampler.claim(len(rows))
            self.curriculum_sampler.update(ids, losses=rows.tolist(), step=self.state.global_step)  # type: ignore[attr-defined]
        return (loss, outputs) if return_outputs else loss

    def _get_train_sampler(self, train_dataset: Any = None) -> Any:
        check_args(self.args)  # type: ignore[attr-defined]
        ds = train_dataset if train_dataset is not None else getattr(self, "train_dataset", None)
        sampler = self.curriculum_sampler
        if ds is not None and hasattr(ds, "__len__") and len(sampler) and max(sampler.plan_indices()) >= len(ds):
            raise UsageError(
                f"the curriculum indexes {max(sampler.plan_indices()) + 1:,} rows but the train dataset has {len(ds):,}",
                "build the CurriculumSampler with dataset=<the train dataset> (or train on sampler.dataset)",
            )
        return sampler

    def _save_checkpoint(self, model: Any, trial: Any) -> None:
        super()._save_checkpoint(model, trial)  # type: ignore[misc]
        from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

        folder = Path(self._get_output_dir(trial=trial)) / f"{PREFIX_CHECKPOINT_DIR}-{self.state.global_step}"  # type: ignore[attr-defined]
        if folder.is_dir() and getattr(self.args, "should_save", True):  # type: ignore[attr-defined]
            tmp = folder / (STATE_FILE + ".tmp")
            tmp.write_text(json.dumps(self.curriculum_sampler.state_dict()))
            os.replace(tmp, folder / STATE_FILE)

    def train(self, resume_from_checkpoint: Any = None, *args: Any, **kwargs: Any) -> Any:
        ckpt = resume_from_checkpoint
        if ckpt is True or (isinstance(ckpt, bool) and ckpt):
            from transformers.trainer_utils import get_last_checkpoint

            ckpt = get_last_checkpoint(self.args.output_dir)  # type: ignore[attr-defined]
        if isinstance(ckpt, (str, os.PathLike)):
            state_path = Path(ckpt) / STATE_FILE
            if state_path.is_file():
                self.curriculum_sampler.load_state_dict(json.loads(state_path.read_text()))
                # The Trainer fast-forwards the batches it trained in this epoch by iterating the sampler:
                # through the restored plan, that lands on the exact next row.
                self.curriculum_sampler.rewind()
        return super().train(resume_from_checkpoint, *args, **kwargs)  # type: ignore[misc]


def per_row_loss(logits: Any, labels: Any) -> Any:
    """Mean next-token cross-entropy of each row of a causal-LM batch (labels −100 ignored); NaN for a row with no label."""
    import torch

    shift_logits, shift_labels = logits[..., :-1, :].float(), labels[..., 1:]
    tok = torch.nn.functional.cross_entropy(
        shift_logits.reshape(-1, shift_logits.size(-1)), shift_labels.reshape(-1), ignore_index=-100, reduction="none"
    ).view(shift_labels.shape)
    mask = (shift_labels != -100).float()
    return (tok * mask).sum(-1) / mask.sum(-1)


def check_args(args: Any) -> None:
    """Refuse trainer settings that re-order the rows."""
    if getattr(args, "group_by_length", False):
        raise UsageError(
            "group_by_length=True re-orders rows by length and undoes the curriculum", "drop group_by_length (the curriculum sets the order)"
        )
    strategy = getattr(args, "train_sampling_strategy", None)
    if strategy in REORDERING:
        raise UsageError(
            f"train_sampling_strategy={strategy!r} re-orders rows and undoes the curriculum",
            "leave train_sampling_strategy at its default: the curriculum sampler replaces it",
        )


class CurriculumTrainer(CurriculumMixin, _transformers.Trainer):  # type: ignore[name-defined]
    """`transformers.Trainer` whose training rows come from a `CurriculumSampler`, in order."""
