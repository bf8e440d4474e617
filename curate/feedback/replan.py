"""Re-plan the unread rest of a curriculum from each row's posterior: the code `curate feedback` and the sampler share.

The trainer has read positions [0, at). Those never change. The rest of the run — the reads the
parent still planned, with their multiplicity — is re-planned:

1. `--drop-mastered TAU[:M]` (Progressive Data Dropout): reads of rows whose posterior mean is
   ≥ TAU after ≥ M observed trials are removed. Nothing replaces them: the run gets shorter by
   that many rows, which is the method's saving.
2. `--band LO:HI` (Prompt Curriculum Learning): reads of rows whose posterior mean is in [LO, HI]
   come first, most uncertain (largest p(1−p)) first, the current pass's reads before the next
   pass's; the other reads wait behind them (deferred, not removed), so a later re-plan can bring
   them into the band.
3. The parent's schedule orders what is not in the band: its pacing g(t) at the run's own steps
   (t ≥ the first unread step), applied to the remaining reads by the parent's easiest-first rank
   (the pool at step t is the remaining reads of rows within the easiest ⌈g(t)·rows⌉), drawn by
   the schedule's own draw (`curate.order.materialise.paced` by default). Every remaining read
   happens once and none is added; a read keeps its pass (the number of reads of its row before
   it, the read prefix included), so the current pass ends before the next begins, as in the
   parent, and a row's repeats stay a pass apart.
4. `--ucb-by COLUMN` (DUMP): each step's rows are split between the column's values by a fixed
   mixture (`curate.order.mix`), with weights softmax(UCB_d / temperature), where
   UCB_d = mean_d |r − p̂| + sqrt(2 ln(N + 1) / (n_d + 1)): r is an observation's success rate,
   p̂ its row's posterior mean (|r − p̂| stands in for the advantage), n_d the observations of
   rows with value d and N all observations. A value whose rows run out gives its share to the
   others. Without `--ucb-by`, a parent ordered with `--mix-by/--mix` keeps its fixed weights for
   the re-planned steps the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from curate.errors import UsageError
from curate.feedback.posterior import Posterior
from curate.feedback.rows import OrderedRun, need_column

STATUS = ("read", "kept", "dropped", "deferred", "in_band")


@dataclass(frozen=True)
class Strategies:
    drop_mastered: float | None = None  # TAU
    min_observations: float = 1.0  # M
    band: tuple[float, float] | None = None
    ucb_by: str | None = None
    ucb_temperature: float = 0.1

    @classmethod
    def parse(cls, drop_mastered: str | None = None, band: str | None = None, ucb_by: str | None = None, ucb_temperature: float = 0.1) -> Strategies:
        tau, m = None, 1.0
        if drop_mastered is not None:
            head, _, tail = str(drop_mastered).partition(":")
            try:
                tau = float(head)
                m = float(tail) if tail else 1.0
            except ValueError:
                raise UsageError(f"--drop-mastered {drop_mastered!r}: expected TAU or TAU:M (e.g. 0.9 or 0.9:4)") from None
            if not 0 < tau <= 1 or not math.isfinite(tau):
                raise UsageError(f"--drop-mastered {drop_mastered!r}: TAU must be in (0, 1]")
            if m < 0 or not math.isfinite(m):
                raise UsageError(f"--drop-mastered {drop_mastered!r}: M (observations needed) must be ≥ 0")
        lohi = None
        if band is not None:
            lohi = parse_range(band, "--band")
            if not 0 <= lohi[0] <= lohi[1] <= 1:
                raise UsageError(f"--band {band!r}: need 0 ≤ LO ≤ HI ≤ 1 (posterior means are probabilities)")
        if ucb_temperature <= 0 or not math.isfinite(ucb_temperature):
            raise UsageError(f"--ucb-temperature must be > 0 (got {ucb_temperature})")
        return cls(tau, m, lohi, ucb_by, ucb_temperature)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.drop_mastered is not None:
            out["drop_mastered"] = {"tau": self.drop_mastered, "min_observations": self.min_observations}
        if self.band is not None:
            out["band"] = {"lo": self.band[0], "hi": self.band[1]}
        if self.ucb_by is not None:
            out["ucb_by"] = {"column": self.ucb_by, "temperature": self.ucb_temperature}
        return out


def parse_range(spec: str, flag: str) -> tuple[float, float]:
    lo, sep, hi = str(spec).partition(":")
    try:
        a, b = float(lo), float(hi)
    except ValueError:
        raise UsageError(f"{flag} {spec!r}: expected LO:HI (e.g. 0.2:0.8)") from None
    if not sep or not (math.isfinite(a) and math.isfinite(b)) or a > b:
        raise UsageError(f"{flag} {spec!r}: expected LO:HI with LO ≤ HI")
    return a, b


@dataclass
class Replanned:
    plan: np.ndarray  # positions of the parent, the whole run (prefix included)
    at: int  # first re-planned position
    fraction: np.ndarray  # curriculum_fraction for every step of the new run
    status: np.ndarray  # per row, one of STATUS
    counts: dict[str, int] = field(default_factory=dict)
    mixture: dict[str, Any] | None = None  # ucb: weights, scores, observations and shares per value


def replan(run: OrderedRun, plan: np.ndarray, at: int, post: Posterior, strat: Strategies, seed: int, salt: int = 0) -> Replanned:
    """The run `plan` (positions), re-planned from position `at` on."""
    from curate.order.schedules import get_schedule

    b = run.batch_size
    at = int(at)
    rest = plan[at:]
    rows = run.pos_row[rest]
    mean = post.mean
    status = np.full(run.rows, "read", dtype=object)
    status[np.unique(rows)] = "kept"
    counts: dict[str, int] = {"remaining_reads": len(rest), "remaining_rows": len(np.unique(rows))}
    if strat.drop_mastered is not None:
        mastered = (mean >= strat.drop_mastered - 1e-12) & (post.m >= strat.min_observations)
        drop = mastered[rows]
        status[np.unique(rows[drop])] = "dropped"
        counts.update(dropped_reads=int(drop.sum()), dropped_rows=len(np.unique(rows[drop])))
        rest, rows = rest[~drop], rows[~drop]
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(salt), at]))
    # a remaining read's pass: how many reads of its row come before it in the whole plan (the read prefix included)
    layer = _occurrence(run.pos_row[np.concatenate([plan[:at], rest])])[at:]
    head = np.empty(0, dtype=np.int64)
    if strat.band is not None:
        lo, hi = strat.band
        inb = (mean[rows] >= lo) & (mean[rows] <= hi)
        head = _most_uncertain_first(run, rest[inb], layer[inb], post)
        status[np.unique(rows[inb])] = "in_band"
        status[np.unique(rows[~inb])] = "deferred"
        counts.update(
            in_band_reads=int(inb.sum()),
            in_band_rows=len(np.unique(rows[inb])),
            deferred_reads=int((~inb).sum()),
            deferred_rows=len(np.unique(rows[~inb])),
        )
        rest, layer = rest[~inb], layer[~inb]
    schedule = get_schedule(run.schedule)
    g = schedule.pacing(run.schedule_steps, run.params)
    first_new_step = at // b
    tail = _paced(run, rest, layer, schedule, g, first_new_step + len(head) // b, rng)
    seq = np.concatenate([head, tail]).astype(np.int64)
    mixture = None
    if strat.ucb_by is not None and len(seq):
        seq, mixture = _ucb_mix(run, seq, post, strat, at)
    elif run.mix is not None and len(seq):
        seq, mixture = _fixed_mix(run, seq, at)
    counts.update(kept_reads=len(seq), kept_rows=len(np.unique(run.pos_row[seq])))
    new_plan = np.concatenate([plan[:at], seq]).astype(np.int64)
    steps = -(-len(new_plan) // b)
    fraction = np.empty(steps)
    kept_steps = min(steps, -(-at // b))  # the step holding position at−1 keeps its recorded value
    fraction[:kept_steps] = run.fraction[:kept_steps] if len(run.fraction) >= kept_steps else 1.0
    if steps > kept_steps:
        fraction[kept_steps:] = g[np.minimum(np.arange(kept_steps, steps), len(g) - 1)]
    counts.update(steps_before=-(-len(plan) // b), steps_after=steps)
    return Replanned(new_plan, at, fraction, status, counts, mixture)


def _most_uncertain_first(run: OrderedRun, entries: np.ndarray, layer: np.ndarray, post: Posterior) -> np.ndarray:
    """Earlier passes first; within one, largest p(1−p) first (ties: easier first)."""
    if not len(entries):
        return entries.astype(np.int64)
    rows = run.pos_row[entries]
    order = np.lexsort((entries, run.rank[rows], -post.uncertainty[rows], layer))
    return entries[order].astype(np.int64)


def _occurrence(rows: np.ndarray) -> np.ndarray:
    """For each entry, how many earlier entries hold the same row (0 for a row's first read)."""
    if not len(rows):
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(rows, kind="stable")
    sorted_rows = rows[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_rows)) + 1]
    run_start = np.repeat(starts, np.diff(np.r_[starts, len(rows)]))
    occ = np.empty(len(rows), dtype=np.int64)
    occ[order] = np.arange(len(rows)) - run_start
    return occ


def _paced(run: OrderedRun, entries: np.ndarray, layer: np.ndarray, schedule: Any, g: np.ndarray, step0: int, rng: np.random.Generator) -> np.ndarray:
    """The parent's schedule over the remaining reads, from step `step0` on: one pass per layer.

    `layer[i]` is the pass of read i (its row's reads before it in the whole run): the reads still
    due in the current pass come first, a row's next read a pass later, as in the parent.
    """
    out: list[np.ndarray] = []
    step = step0
    for k in np.unique(layer):
        part = entries[layer == k]
        out.append(_paced_pass(run, part, schedule, g, step, rng))
        step += len(part) // run.batch_size
    return np.concatenate(out).astype(np.int64) if out else entries.astype(np.int64)


def _paced_pass(run: OrderedRun, entries: np.ndarray, schedule: Any, g: np.ndarray, step0: int, rng: np.random.Generator) -> np.ndarray:
    """One pass of the schedule over `entries` (each row at most once): its pacing g(t) from step `step0`, by the parent's ranks."""
    from curate.order.materialise import paced
    from curate.order.schedules import Plan

    n = len(entries)
    if n == 0:
        return entries.astype(np.int64)
    ranks = run.rank[run.pos_row[entries]]
    order = np.lexsort((entries, ranks))
    entries, ranks = entries[order], ranks[order]
    b = run.batch_size
    steps = -(-n // b)
    t = np.minimum(step0 + np.arange(steps), len(g) - 1)
    frontier = np.ceil(g[t] * run.rows - 1e-9)
    pool = np.maximum(1, np.searchsorted(ranks, frontier, side="left"))
    plan = Plan(n, n, steps, b, run.params, rng, pool / n, "widen")
    drawn = (schedule.draw or paced)(plan)
    return entries[drawn.ranks].astype(np.int64)


def _labels(run: OrderedRun, column: str, flag: str) -> tuple[np.ndarray, np.ndarray]:
    values = need_column(run, column, flag)
    labels = np.array(["null" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in values.tolist()], dtype=object)
    names, code = np.unique(labels.astype(str), return_inverse=True)
    return names, code


def _fixed_mix(run: OrderedRun, seq: np.ndarray, at: int) -> tuple[np.ndarray, dict[str, Any]]:
    """The parent's own `--mix` weights kept for the re-planned steps (a value that runs out gives its share to the others)."""
    from curate.order.mix import interleave

    assert run.mix is not None
    column, weights = run.mix
    names, code = _labels(run, column, "the parent's --mix-by")
    w = np.array([weights.get(str(n), 0.0) for n in names])
    seq_code = code[run.pos_row[seq]]
    present = np.bincount(seq_code, minlength=len(names)) > 0
    w = np.where(present, w, 0.0)
    if w.sum() <= 0:
        return seq, {"column": column, "weights": weights, "values": {}}
    b = run.batch_size
    mixed = interleave(seq, seq_code, w / w.sum(), b, exhausted="share", first_step=(b - at % b) if at % b else None)
    shares = np.bincount(code[run.pos_row[mixed.sequence]], minlength=len(names)) / max(1, len(mixed.sequence))
    return mixed.sequence, {
        "column": column,
        "weights": weights,
        "values": {str(names[i]): {"share": round(float(shares[i]), 6), "reads": int(mixed.per_group[i]["rows"])} for i in range(len(names))},
    }


def _ucb_mix(run: OrderedRun, seq: np.ndarray, post: Posterior, strat: Strategies, at: int) -> tuple[np.ndarray, dict[str, Any]]:
    from curate.order.mix import interleave

    assert strat.ucb_by is not None
    names, code = _labels(run, strat.ucb_by, "--ucb-by")
    g_count = len(names)
    obs_code = code[post.obs_row] if len(post.obs_row) else np.empty(0, dtype=np.int64)
    adv = np.abs(post.obs_rate - post.mean[post.obs_row]) if len(post.obs_row) else np.empty(0)
    n_d = np.bincount(obs_code, minlength=g_count).astype(np.float64)
    sum_d = np.bincount(obs_code, weights=adv, minlength=g_count)
    mean_adv = np.divide(sum_d, n_d, out=np.zeros(g_count), where=n_d > 0)
    total = float(n_d.sum())
    score = mean_adv + np.sqrt(2 * math.log(total + 1) / (n_d + 1))
    seq_code = code[run.pos_row[seq]]
    present = np.bincount(seq_code, minlength=g_count) > 0
    z = np.where(present, score / strat.ucb_temperature, -np.inf)
    w = np.exp(z - z[present].max())
    w = np.where(present, w, 0.0)
    w /= w.sum()
    b = run.batch_size
    mixed = interleave(seq, seq_code, w, b, exhausted="share", first_step=(b - at % b) if at % b else None)
    out = mixed.sequence
    shares = np.bincount(code[run.pos_row[out]], minlength=g_count) / max(1, len(out))
    info = {
        "column": strat.ucb_by,
        "temperature": strat.ucb_temperature,
        "values": {
            str(names[i]): {
                "weight": round(float(w[i]), 6),
                "ucb": round(float(score[i]), 6),
                "mean_abs_advantage": round(float(mean_adv[i]), 6),
                "observations": int(n_d[i]),
                "share": round(float(shares[i]), 6),
                "reads": int(mixed.per_group[i]["rows"]),
            }
            for i in range(g_count)
        },
    }
    return out, info
