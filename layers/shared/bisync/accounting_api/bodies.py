"""The Accounting Sync API's bodies: what it reads (a settings change, a sync request, a reason)
and what it answers (settings, a queued sync, errors, problems). The settings change is derived
from the settings model, so the two cannot drift apart."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    WithJsonSchema,
    create_model,
)
from pydantic.fields import FieldInfo
from pydantic.json_schema import SkipJsonSchema

from bisync.operate import errors as ops
from bisync.operate.settings_edit import PROTECTED
from bisync.settings import TenantSettings


class Problem(BaseModel):
    """Why a request was refused, in words a person can act on."""

    message: str


class FieldProblem(BaseModel):
    """One invalid field: where it is and the rule it breaks (never the value sent)."""

    loc: list[str | int] = Field(description='Where the field is, e.g. ["body", "lookback_minutes"].')
    msg: str
    type: str


class InvalidRequest(BaseModel):
    message: str
    errors: list[FieldProblem]


class SettingsView(TenantSettings):
    """The settings as the API shows them: everything but where the tenant's secret is kept."""

    secret_name: SkipJsonSchema[str] = Field(default="", exclude=True)


def _no_default(schema: dict[str, Any]) -> None:
    # A field left out keeps its current value: the schema has no default to suggest otherwise.
    schema.pop("default", None)


def change_model(model: type[BaseModel], name: str) -> type[BaseModel]:
    """`model` as a partial change (a JSON merge patch of it): every field may be left out, each
    keeps its type and constraints, nested models are changes too (they merge key by key), lists
    and other values replace. Derived from the settings model, so the two cannot drift apart."""
    fields: dict[str, Any] = {}
    for field_name, info in model.model_fields.items():
        if field_name in PROTECTED:
            continue
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            annotation = change_model(annotation, f"{annotation.__name__}Change")
        patch = FieldInfo.merge_field_infos(info, default=None, json_schema_extra=_no_default)
        patch.default_factory = None
        patch.annotation = annotation
        fields[field_name] = (annotation, patch)
    changed: type[BaseModel] = create_model(
        name, __config__=ConfigDict(extra="forbid"), __doc__=model.__doc__, **fields
    )
    return changed


if TYPE_CHECKING:

    class SettingsChange(BaseModel): ...

else:
    SettingsChange = change_model(TenantSettings, "SettingsChange")
    SettingsChange.__doc__ = (
        "The settings to change; any left out keep their value. Nested objects (flows, accounts) "
        "merge field by field; lists (bank_accounts, definitions) replace. The result is validated "
        "as a whole before anything is saved."
    )


def when_given(value_type: Any) -> WithJsonSchema:
    """The schema of a query parameter that may be left out (its absence is the None): the value
    type alone, since a query string has no null to send."""
    return WithJsonSchema(TypeAdapter(value_type).json_schema())


Direction = Literal["push", "pull"]
Level = Literal["error", "warning"]


PullFlow = Literal["customers", "invoices", "credit_notes", "payments"]


class SyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    flows: list[PullFlow] = Field(
        default_factory=list, description="Only these pull flows (default: every pull flow that is on)."
    )
    since: date | None = Field(
        default=None,
        description="A backfill: re-read what changed in Intacct since this day, not since the last run.",
    )


class SyncQueued(BaseModel):
    queued: bool
    trigger: str = Field(description="The run's trigger as the status shows it under last_pull.trigger.")
    scheduled_for: datetime
    flows: list[str]
    since: date | None


class ErrorList(BaseModel):
    errors: list[ops.ErrorView]


class IgnoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500, pattern=r"\S")
    ] = Field(description="Why the object needs no sync; kept with the error.")
