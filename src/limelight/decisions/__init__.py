"""The decision log shared by recommendations, pages and bandits (DESIGN §5)."""

from limelight.decisions.batch import (
    BATCH_KIND,
    batch_record,
    columnar_record,
    expand,
    member,
    member_extras,
    member_id,
    member_ids,
    split_member,
)
from limelight.decisions.log import DecisionLog, fetch, resolve
from limelight.decisions.record import DecisionRecord, new_decision_id

__all__ = [
    "BATCH_KIND",
    "DecisionLog",
    "DecisionRecord",
    "batch_record",
    "columnar_record",
    "expand",
    "fetch",
    "member",
    "member_extras",
    "member_id",
    "member_ids",
    "new_decision_id",
    "resolve",
    "split_member",
]
