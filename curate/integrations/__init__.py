"""Trainer integrations of `curate.sampler.CurriculumSampler`: `hf` (transformers.Trainer) and `verl` (verl's curriculum sampler)."""
