"""`compare()` on logs with known answers: no difference, a uniform 10 % gain, unequal grids, formats, trials, determinism."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from compare_logs import STEPS, csv_log, curve, hf_state, linear, tensorboard_csv, trial_folder

from curate.compare import compare, resolve_arms
from curate.errors import InputError, UsageError

SEEDS = (0, 1, 2)


def _arm(tmp_path, name, values_for_seed, seeds=SEEDS, steps=STEPS):
    return [str(hf_state(tmp_path / name / f"seed-{s}", steps, values_for_seed(s)).parent) for s in seeds]


def _contains_zero(ci):
    return ci is not None and ci[0] <= 0 <= ci[1]


def test_identical_arms_show_no_difference(tmp_path):
    base = _arm(tmp_path, "baseline", lambda s: curve(seed=s))
    copy = _arm(tmp_path, "copy", lambda s: curve(seed=s))
    shuffled = _arm(tmp_path, "shuffled", lambda s: curve(seed=(s + 1) % 3))  # the same runs, paired with other seeds
    res = compare({"baseline": base, "copy": copy, "shuffled": shuffled}, tmp_path / "out", target=3.2)
    for name in ("copy", "shuffled"):
        v = res.data["vs_baseline"][name]
        for key in ("final_diff_ci", "auc_diff_ci", "steps_to_target_change_ci"):
            assert _contains_zero(v[key]), (name, key, v[key])
        assert set(v["findings"].values()) == {"no difference detectable"}
        assert v["verdict"].startswith("no difference detectable with 3 seeds per arm")
        assert "paired by seed index" in v["verdict"]
    assert res.data["vs_baseline"]["copy"]["final_diff"] == 0.0
    assert res.data["vs_baseline"]["shuffled"]["final_diff"] == pytest.approx(0.0, abs=1e-12)  # the same three runs


@pytest.mark.parametrize("independent_noise", [False, True], ids=["same-noise", "own-noise"])
def test_an_arm_ten_percent_lower_is_detected_with_sign_and_size(tmp_path, independent_noise):
    base = _arm(tmp_path, "baseline", lambda s: curve(seed=s))
    lower = _arm(tmp_path, "root", lambda s: curve(seed=s + 10 if independent_noise else s, scale=0.9))
    res = compare({"baseline": base, "root": lower}, tmp_path / "out")
    arms, v = res.data["arms"], res.data["vs_baseline"]["root"]
    expected_final = -0.1 * arms["baseline"]["final"]
    expected_auc = -0.1 * arms["baseline"]["auc"]
    if independent_noise:  # 1 % noise per point: the estimate is within a few hundredths of the truth
        assert v["final_diff"] == pytest.approx(expected_final, rel=0.1)
        assert v["auc_diff"] == pytest.approx(expected_auc, rel=0.05)
    else:
        assert v["final_diff"] == pytest.approx(expected_final, rel=1e-9)
        assert v["auc_diff"] == pytest.approx(expected_auc, rel=1e-9)
    for key in ("final_diff_ci", "auc_diff_ci"):
        lo, hi = v[key]
        assert lo <= v[key.removesuffix("_ci")] <= hi and hi < 0  # the whole CI below 0
    assert v["findings"] == {"final": "better", "auc": "better"}
    assert v["verdict"].startswith("final eval_loss 0.2") and "lower (better), 95 % CI [" in v["verdict"]


def test_higher_is_better_flips_the_judgement(tmp_path):
    base = _arm(tmp_path, "baseline", lambda s: 1 - curve(seed=s) / 10)  # an accuracy rising from 0.5 to ~0.8
    worse = _arm(tmp_path, "anti", lambda s: 0.9 * (1 - curve(seed=s) / 10))
    res = compare({"baseline": base, "anti": worse}, tmp_path / "out", metric="eval_loss", lower_is_better=False)
    v = res.data["vs_baseline"]["anti"]
    assert v["final_diff"] < 0 and v["findings"]["final"] == "worse"
    assert "lower (worse)" in v["verdict"]


def test_steps_to_target_known_answer(tmp_path):
    """5 − s/250 reaches 3.2 at s = 450; 0.9 × that reaches it at s = 361.1: 19.75 % fewer steps."""
    base = _arm(tmp_path, "baseline", lambda s: linear())
    fast = _arm(tmp_path, "root", lambda s: linear(scale=0.9))
    res = compare({"baseline": base, "root": fast}, tmp_path / "out", target=3.2, plot=False)
    assert res.data["arms"]["baseline"]["steps_to_target"]["mean"] == pytest.approx(450)
    assert res.data["arms"]["root"]["steps_to_target"]["mean"] == pytest.approx(361.111, rel=1e-5)
    v = res.data["vs_baseline"]["root"]
    assert v["steps_to_target_change"] == pytest.approx(361.111 / 450 - 1, rel=1e-5)
    assert v["steps_to_target_change_ci"] == pytest.approx([361.111 / 450 - 1] * 2, rel=1e-5)  # no seed noise
    assert "reaches 3.2 in 20 % fewer steps (geometric means 361 vs 450 steps), 95 % CI [20 %, 20 %]" in v["verdict"]
    # no seed noise: every per-seed difference is the same, so each CI is one value, and a note says why
    assert sum("every seed's" in n and "the seeds did not vary it" in n for n in res.data["notes"]) == 3


def test_an_arm_at_the_target_from_step_0_is_not_compared_on_steps(tmp_path):
    base = _arm(tmp_path, "baseline", lambda s: curve(seed=s))
    fast = _arm(tmp_path, "root", lambda s: curve(seed=s, scale=0.5))  # starts at 2.5, below the target
    res = compare({"baseline": base, "root": fast}, tmp_path / "out", target=3.0, plot=False)
    assert [r["steps_to_target"] for r in res.data["arms"]["root"]["runs"]] == [0.0, 0.0, 0.0]
    v = res.data["vs_baseline"]["root"]
    assert v["findings"]["steps_to_target"] == "not compared" and v["steps_to_target_change"] is None
    assert "steps to reach 3 not compared: root is at the target from step 0 (a ratio of steps needs steps above 0)" in v["verdict"]


def test_target_not_reached_by_every_run_is_not_compared(tmp_path):
    base = _arm(tmp_path, "baseline", lambda s: linear())
    slow = _arm(tmp_path, "slow", lambda s: linear() + (2.0 if s == 0 else 0.0))  # seed 0 ends at 3.0, never reaching 2.2
    res = compare({"baseline": base, "slow": slow}, tmp_path / "out", target=2.2, plot=False)
    reach = res.data["arms"]["slow"]["steps_to_target"]
    assert (reach["reached"], reach["of"], reach["mean"], reach["ci"]) == (2, 3, None, None)
    assert [r["steps_to_target"] for r in res.data["arms"]["slow"]["runs"]] == [None, pytest.approx(700), pytest.approx(700)]
    v = res.data["vs_baseline"]["slow"]
    assert v["findings"]["steps_to_target"] == "not compared" and v["steps_to_target_change"] is None
    assert "steps to reach 2.2 not compared: slow reached it in 2 of 3 runs, baseline in 3 of 3" in v["verdict"]


def test_unequal_step_grids_use_the_common_window(tmp_path):
    """Baseline: every 100 steps over 0–1000. Arm: every 30 steps over 60–1260. Linear curves: exact answers."""
    arm_steps = np.arange(60, 1261, 30)
    base = _arm(tmp_path, "baseline", lambda s: linear(), seeds=(0, 1))
    other = _arm(tmp_path, "root", lambda s: linear(arm_steps, scale=0.9), seeds=(0, 1), steps=arm_steps)
    res = compare({"baseline": base, "root": other}, tmp_path / "out")
    w = res.data["window"]
    assert (w["start"], w["end"]) == (60, 1000)
    mid = (60 + 1000) / 2
    assert res.data["arms"]["baseline"]["auc"] == pytest.approx(5 - mid / 250)
    assert res.data["arms"]["root"]["auc"] == pytest.approx(0.9 * (5 - mid / 250))
    assert res.data["arms"]["root"]["final"] == pytest.approx(0.9 * (5 - 1000 / 250))  # at step 1000, not its own last step 1260
    assert res.data["vs_baseline"]["root"]["final_diff"] == pytest.approx(-0.1)
    assert any("different steps" in n and "60–1000" in n for n in res.data["notes"])
    assert res.png_path.is_file()


def test_unequal_seed_counts_are_unpaired_and_say_so(tmp_path):
    base = _arm(tmp_path, "baseline", lambda s: curve(seed=s))
    lower = _arm(tmp_path, "root", lambda s: curve(seed=s + 10, scale=0.9), seeds=(0, 1))
    res = compare({"baseline": base, "root": lower}, tmp_path / "out", plot=False)
    v = res.data["vs_baseline"]["root"]
    assert v["pairing"] == "unpaired" and v["n_runs"] == [2, 3]
    assert "unpaired, Welch's t, 2 seeds for root, 3 for baseline" in v["verdict"]


def test_one_seed_per_arm_has_no_ci_and_no_verdict(tmp_path):
    base = _arm(tmp_path, "baseline", lambda s: curve(seed=s), seeds=(0,))
    lower = _arm(tmp_path, "root", lambda s: curve(seed=s, scale=0.5), seeds=(0,))
    res = compare({"baseline": base, "root": lower}, tmp_path / "out", target=2.2, plot=False)
    v = res.data["vs_baseline"]["root"]
    assert v["final_diff"] < 0 and v["steps_to_target_change"] < 0  # the single-pair differences are reported
    assert v["final_diff_ci"] is None and v["auc_diff_ci"] is None and v["steps_to_target_change_ci"] is None
    assert res.data["arms"]["root"]["final_ci"] is None
    assert set(v["findings"].values()) == {"no CI"}
    assert v["verdict"].startswith("no verdict: root and baseline have one run")
    assert "better" not in v["verdict"]


def test_hf_and_csv_logs_of_the_same_curves_agree(tmp_path):
    vals = {s: curve(seed=s) for s in SEEDS}
    hf = _arm(tmp_path, "hf", lambda s: vals[s])
    csvs = [str(csv_log(tmp_path / "csv" / f"seed-{s}.csv", STEPS, vals[s])) for s in SEEDS]
    tb = [str(tensorboard_csv(tmp_path / "tb" / f"seed-{s}.csv", STEPS, vals[s])) for s in SEEDS]
    res = compare({"baseline": hf, "csv": csvs, "tb": tb}, tmp_path / "out", target=3.2, plot=False)
    for name in ("csv", "tb"):
        v = res.data["vs_baseline"][name]
        assert v["final_diff"] == 0 and v["auc_diff"] == 0 and v["steps_to_target_change"] == 0
        assert res.data["arms"][name]["runs"][0]["format"] == ("csv" if name == "csv" else "tensorboard_csv")


def test_trial_folder_pairs_runs_by_seed(tmp_path):
    """Seeds differ a lot from each other; the arm is each seed's baseline run minus 0.1. Paired by seed, the CI is exact."""
    scale = {0: 1.0, 1: 1.6, 2: 0.7}
    trial = trial_folder(
        tmp_path / "trial",
        {
            "baseline": [(s, curve(seed=s, scale=scale[s])) for s in (2, 0, 1)],  # listed out of order
            "warmup": [(s, curve(seed=s, scale=scale[s], shift=-0.1)) for s in (0, 1, 2)],
        },
    )
    arms, baseline, metric = resolve_arms([str(trial)])
    res = compare(arms, tmp_path / "out", baseline=baseline, metric=metric, plot=False)
    v = res.data["vs_baseline"]["warmup"]
    assert v["pairing"] == "paired"
    assert v["final_diff_ci"] == pytest.approx([-0.1, -0.1]) and v["auc_diff_ci"] == pytest.approx([-0.1, -0.1])
    assert [r["path"] for r in res.data["arms"]["baseline"]["runs"]] == [str(trial / f"runs/baseline/seed-{s}") for s in (0, 1, 2)]


def test_same_inputs_give_identical_files(tmp_path):
    arms = {"baseline": _arm(tmp_path, "baseline", lambda s: curve(seed=s)), "root": _arm(tmp_path, "root", lambda s: curve(seed=s + 5, scale=0.95))}
    a = compare(arms, tmp_path / "a", target=3.2)
    b = compare(arms, tmp_path / "b", target=3.2)
    assert a.json_path.read_bytes() == b.json_path.read_bytes()
    assert a.png_path.read_bytes() == b.png_path.read_bytes()


def test_compare_json_holds_the_documented_keys(tmp_path):
    arms = {"baseline": _arm(tmp_path, "baseline", lambda s: curve(seed=s)), "root": _arm(tmp_path, "root", lambda s: curve(seed=s, scale=0.9))}
    res = compare(arms, tmp_path / "out", target=3.2, plot=False)
    data = json.loads(res.json_path.read_text())
    assert {"metric", "lower_is_better", "arms", "vs_baseline"} <= set(data)
    for arm in data["arms"].values():
        assert {"runs", "final", "final_ci", "auc", "auc_ci", "steps_to_target"} <= set(arm)
    assert {"final_diff", "final_diff_ci", "auc_diff", "auc_diff_ci", "verdict"} <= set(data["vs_baseline"]["root"])
    assert "baseline" not in data["vs_baseline"]


@pytest.mark.parametrize(
    "arms, kwargs, error, message",
    [
        ({"a": ["x"], "b": ["y"]}, {}, UsageError, "no arm named 'baseline' (arms: a, b)"),
        ({"baseline": ["x"]}, {}, UsageError, "only the baseline arm"),
        ({"baseline": ["x"], "b": []}, {}, UsageError, "arm 'b' has no runs"),
        ({"baseline": ["x", "x"], "b": ["y"]}, {}, UsageError, "lists x twice"),
        ({"baseline": ["x"], "b": ["y"]}, {"target": float("nan")}, UsageError, "--target nan"),
        ({"baseline": ["x"], "b": ["missing"]}, {}, InputError, "run log 'missing' does not exist"),
    ],
)
def test_bad_arguments(tmp_path, arms, kwargs, error, message):
    hf_state(tmp_path / "x", STEPS, curve())
    hf_state(tmp_path / "y", STEPS, curve())
    arms = {k: [str(tmp_path / p) if p in ("x", "y") else p for p in v] for k, v in arms.items()}
    with pytest.raises(error) as err:
        compare(arms, tmp_path / "out", **kwargs)
    assert message.replace("x twice", f"{tmp_path / 'x'} twice") in str(err.value)


def test_missing_metric_in_one_run_names_that_file(tmp_path):
    base = _arm(tmp_path, "baseline", lambda s: curve(seed=s))
    other = _arm(tmp_path, "root", lambda s: curve(seed=s))
    bad = hf_state(tmp_path / "root" / "seed-1", STEPS, curve(), metric="eval_acc")
    with pytest.raises(InputError, match=f"{bad}.* has no 'eval_loss' values"):
        compare({"baseline": base, "root": other}, tmp_path / "out")


def test_output_that_is_a_file_is_refused(tmp_path):
    arms = {"baseline": _arm(tmp_path, "b", lambda s: curve(seed=s)), "root": _arm(tmp_path, "r", lambda s: curve(seed=s))}
    (tmp_path / "out").write_text("x")
    with pytest.raises(UsageError, match="is a file"):
        compare(arms, tmp_path / "out")


def test_metric_direction_hint(tmp_path):
    arms = {"baseline": _arm(tmp_path, "b", lambda s: curve(seed=s)), "root": _arm(tmp_path, "r", lambda s: curve(seed=s))}
    for name in ("baseline", "root"):
        for p in arms[name]:
            shutil.copy(hf_state(tmp_path / "tmp", STEPS, curve(), metric="eval_accuracy"), p + "/trainer_state.json")
    res = compare(arms, tmp_path / "out", metric="eval_accuracy", plot=False)
    assert any("--higher-is-better" in n for n in res.data["notes"])
