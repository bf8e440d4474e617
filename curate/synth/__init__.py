"""Verified synthesis with lineage: defect-aware problems, progressive-difficulty ladders, hint ladders, numeric variants.

`synthesize(sources, options, output, generator=..., target=...)` is the library call behind
`curate synthesize`; `run(rows, options, generator, target)` is the same on in-memory rows.
"""

from curate.synth.options import EASIER_OPS, HARDER_OPS, KeepPolicy, Mode, MonotonicPolicy, SynthOptions
from curate.synth.pipeline import Output, run, synthesize

__all__ = ["EASIER_OPS", "HARDER_OPS", "KeepPolicy", "Mode", "MonotonicPolicy", "Output", "SynthOptions", "run", "synthesize"]
