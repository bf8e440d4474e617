"""`curate trial`: train a small causal LM from scratch on a curriculum, its baseline and controls; compare them.

    from curate.trial import TrialConfig, run_trial
    result = run_trial(TrialConfig("out/ordered", "out/trial", seeds=3, lr_sweep=[3e-4, 1e-3, 3e-3]))
    result.compare.data["vs_baseline"]

See curate/trial/run.py for the folder it writes and docs/evidence.md for how to read it.
"""

from curate.trial.run import TRIAL_JSON, TrialConfig, TrialResult, run_trial

__all__ = ["TRIAL_JSON", "TrialConfig", "TrialResult", "run_trial"]
