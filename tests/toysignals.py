"""A tiny registered signal for testing the score and pipeline mechanics without the real signals."""

from curate.signals.base import HIGHER, LOWER, SIGNALS, Column, Signal


@SIGNALS.register("toy_len")
class ToyLen(Signal):
    """Characters, and the number of 'z's (lower-is-harder)."""

    name = "toy_len"
    description = "test signal"
    columns = (Column("", "characters", HIGHER), Column("z", "count of z", LOWER))

    def score(self, ctx):
        return {"score_toy_len": [float(len(t)) for t in ctx.texts], "score_toy_len_z": [float(t.count("z")) for t in ctx.texts]}
