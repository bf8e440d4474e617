"""`curate order`: pacing schedules materialised as ordered, sharded Parquet with a manifest.

From Python:

    from curate.order import OrderConfig, order, verify
    manifest = order(OrderConfig(["scored.parquet"], "out/", schedule="root", seed=1))
    verify("out/")
"""

from curate.order.manifest import verify
from curate.order.run import OrderConfig, order, resolve_budget
from curate.order.schedules import SCHEDULES, Params, get_schedule

__all__ = ["OrderConfig", "Params", "SCHEDULES", "get_schedule", "order", "resolve_budget", "verify"]
