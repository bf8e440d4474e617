"""Does a curriculum beat its baseline? Training logs of several arms (several seeds each) → CIs and a verdict."""

from curate.compare.readers import Series, parse_arm, read_series, read_trial, resolve_arms
from curate.compare.run import COMPARE_JSON, COMPARE_PNG, CompareResult, compare

__all__ = ["COMPARE_JSON", "COMPARE_PNG", "CompareResult", "Series", "compare", "parse_arm", "read_series", "read_trial", "resolve_arms"]
