"""The experiments' errors, and input validation that reports the field at fault."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from limelight.errors import InvalidInput, LimelightError

Model = TypeVar("Model", bound=BaseModel)


class ExperimentConflict(LimelightError):
    """A change the experiment's state does not allow (starting twice, a full layer)."""

    status = 409
    title = "Conflict"


def validated(model: type[Model], data: Any) -> Model:
    """``data`` as ``model``, or an ``InvalidInput`` naming the first field at fault."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        field = ".".join(str(part) for part in first.get("loc", ())) or None
        where = f"{field}: " if field else ""
        raise InvalidInput(f"{where}{first.get('msg')}", field=field) from None
