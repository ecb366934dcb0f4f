"""The decision log shared by recommendations, pages and bandits (DESIGN §5)."""

from limelight.decisions.log import DecisionLog, DecisionRecord, new_decision_id

__all__ = ["DecisionLog", "DecisionRecord", "new_decision_id"]
