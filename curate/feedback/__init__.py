"""`curate feedback`: training observations → each row's Beta posterior → the unread rest of a curriculum re-planned.

    from curate.feedback import FeedbackConfig, feedback
    manifest = feedback(FeedbackConfig("out/ordered", stats="losses.jsonl", step=200, output="out/ordered-r1", drop_mastered="0.9:2"))

The pieces: `stats` (observation files), `posterior` (Beta prior and update), `replan` (the
strategies and the re-plan, shared with `curate.sampler.CurriculumSampler`), `revision` (the new
ordered folder, written with `curate.order`'s shard code).
"""
