"""Personal data: export and erase, extended by every capability that keeps per-person state."""

from limelight.privacy.registry import PersonalData, PersonalDataHook

__all__ = ["PersonalData", "PersonalDataHook"]
