"""Defaults shared by the library and the command line (this module imports nothing)."""

# The text signals `curate score` computes when none are named: cheap, model-free, and together the
# families found most useful for ordering text (length, compression, readability, diversity, entropy).
DEFAULT_SIGNALS = ("length", "compression_ratio", "readability", "lexical_diversity", "word_entropy")
