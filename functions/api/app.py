"""Accounting Sync API Lambda: what Blixo's "Settings -> Accounting Sync" page reads and does.

A REST API behind API Gateway (an API key and a usage plan): a tenant's settings (read, and
changed as `tenant set` changes them), its sync status (the figures `status` shows), a pull
queued now, and its sync errors (list, retry, ignore). The logic is bisync.operate's, shared
with the `blixo-intacct` command; this handler owns HTTP: routes, validation, status codes
and bodies. Its OpenAPI document is generated from these routes and models
(`python -m functions.api.openapi` writes docs/openapi.json).

Never in a response or a log line: a secret, or a value a caller sent (validation errors name
the field and the rule, not the input).
"""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import (
    Field,
    ValidationError,
)

from bisync.accounting_api.bodies import (
    Direction,
    ErrorList,
    IgnoreRequest,
    Level,
    SettingsChange,
    SettingsView,
    SyncQueued,
    SyncRequest,
    when_given,
)
from bisync.accounting_api.problems import (
    ApiProblem,
    Invalid,
    api_problem,
    field_problems,
    invalid,
    invalid_request,
    reject_unknown_query,
    responses,
)
from bisync.aws import SqsQueue, load_tenant_secrets, sqs_client, sync_store
from bisync.blixo import api as blixo_api
from bisync.blixo.errors import BlixoError, NotFoundError
from bisync.blixo.webhooks import MalformedPayload, parse_strict_json
from bisync.config import runtime_config
from bisync.operate import errors as ops
from bisync.operate.connect import check_intacct
from bisync.operate.jobs import JobError, pull_now
from bisync.operate.settings_edit import CHECKED_IN_INTACCT, SettingsChangeError, apply_change
from bisync.operate.status import QueueDepths, StatusReport, status_report
from bisync.queues import queue_depths as read_queue_depths
from bisync.secrets import TenantSecretsError
from bisync.settings import TENANT_ID_PATTERN, TenantSettings
from bisync.store import SyncErrorRecord, TenantNotFoundError
from bisync.sync.jobs import QueueMessage
from bisync.sync.tenant import blixo_client, intacct_client

logger = Logger()
# The shared layer's loggers (the clients' retry warnings) as JSON lines with this function's
# keys: Powertools copies its handler to top-level loggers only, so "bisync" gets it.
logging.getLogger("bisync")
copy_config_to_registered_loggers(source_logger=logger, include={"bisync"})

API_TITLE = "Blixo Accounting Sync API"
API_VERSION = "1.0.0"
API_DESCRIPTION = (
    "A tenant's Blixo <-> Sage Intacct sync, for Blixo's Settings -> Accounting Sync page: the "
    "data-flow switches and the other settings, when each flow last synced, a pull queued now, "
    "and the sync errors with retry and ignore. Every request carries the API key in `x-api-key`."
)
API_KEY_SCHEME = "apiKey"
API_KEY_HEADER = "x-api-key"
# The queues whose depths the status shows, beside the two the runtime config names.
PUSH_DLQ_ENV = "PUSH_DLQ_URL"
BLIXO_TIMEOUT = (3.05, 10.0)  # (connect, read) of the one Blixo read a push retry makes
PULL_DLQ_ENV = "PULL_DLQ_URL"

app = APIGatewayRestResolver(enable_validation=True)


# Registered by call, not as decorators: Powertools' decorator is untyped.
app.exception_handler(ApiProblem)(api_problem)
app.exception_handler(Invalid)(invalid)
app.exception_handler(RequestValidationError)(invalid_request)
app.use(middlewares=[reject_unknown_query])


# ------------------------------------------------------------------ helpers
def _tenant(tenant_id: str) -> TenantSettings:
    logger.append_keys(tenant_id=tenant_id)
    # An id that cannot be a tenant's is unknown, not invalid: no lookup with a malformed key.
    if not TENANT_ID_PATTERN.fullmatch(tenant_id):
        raise ApiProblem(HTTPStatus.NOT_FOUND, "no such tenant")
    try:
        return sync_store().get_tenant(tenant_id)
    except TenantNotFoundError:
        raise ApiProblem(HTTPStatus.NOT_FOUND, "no such tenant") from None


def queue_depths() -> QueueDepths:
    """SQS's approximate counts of the four queues (the same figures `blixo-intacct status` reads)."""
    config = runtime_config()
    push_dlq, pull_dlq = _dlq_urls()
    return read_queue_depths(
        sqs_client(),
        push=config.push_queue_url,
        push_dlq=push_dlq,
        pull=config.pull_queue_url,
        pull_dlq=pull_dlq,
    )


@lru_cache(maxsize=1)
def _dlq_urls() -> tuple[str, str]:
    # The template sets both for this function (the runtime config names only the two queues).
    return os.environ[PUSH_DLQ_ENV], os.environ[PULL_DLQ_ENV]


@contextmanager
def blixo_reader(tenant_id: str) -> Iterator[ops.FetchBlixo]:
    """Reads a Blixo record's raw JSON with the tenant's own key (None when it is gone)."""
    try:
        # Bounded well inside API Gateway's 29 s integration timeout.
        client = blixo_client(
            load_tenant_secrets(tenant_id), runtime_config(), timeout=BLIXO_TIMEOUT, max_retries=1
        )
    except TenantSecretsError as exc:
        # No traceback: the detail says which secret and why, secret-free; a trace adds nothing.
        logger.error("tenant secret unavailable", extra={"detail": str(exc)})  # noqa: TRY400
        raise ApiProblem(
            HTTPStatus.SERVICE_UNAVAILABLE, "the tenant's Blixo connection is not set up"
        ) from None

    def fetch(object_type: str, object_id: str) -> dict[str, Any] | None:
        try:
            kind = blixo_api.ResourceKind(object_type)
        except ValueError:
            return None
        try:
            data = client.get_data(blixo_api.object_path(kind, object_id))
        except NotFoundError:
            return None
        return data if isinstance(data, dict) else None

    try:
        yield fetch
    except BlixoError as exc:
        logger.warning("Blixo read for a retry failed", extra={"error": type(exc).__name__})
        raise ApiProblem(HTTPStatus.BAD_GATEWAY, "Blixo could not be read; try again later") from None
    finally:
        client.close()


def _error_record(tenant_id: str, object_type: str, object_id: str) -> SyncErrorRecord:
    logger.append_keys(object_type=object_type, object_id=object_id)
    record = sync_store().errors.get(tenant_id, object_type, object_id)
    if record is None:
        raise ApiProblem(HTTPStatus.NOT_FOUND, "no such sync error (it may have synced since)")
    return record


def _sender(queue_url: str) -> Callable[[QueueMessage], None]:
    queue = SqsQueue(queue_url)

    def send(message: QueueMessage) -> None:
        queue.send(message)

    return send


# ------------------------------------------------------------------ routes
@app.get(
    "/tenants/<tenantId>/settings",
    summary="The tenant's settings",
    operation_id="getSettings",
    responses=responses(HTTPStatus.OK, "The settings.", HTTPStatus.NOT_FOUND),
)
def get_settings(tenantId: str) -> SettingsView:
    return SettingsView.model_validate(_tenant(tenantId).model_dump())


@app.patch(
    "/tenants/<tenantId>/settings",
    summary="Change the tenant's settings",
    description="Merges the change into the current settings and validates the whole before saving "
    "(as `blixo-intacct tenant set` does). Nothing is saved when anything is invalid.",
    operation_id="changeSettings",
    responses=responses(
        HTTPStatus.OK, "The settings as saved.", HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND
    ),
)
def change_settings(
    tenantId: str,
    change: Annotated[SettingsChange, Body()],
) -> SettingsView:
    current = _tenant(tenantId)
    fields = change.model_dump(mode="json", exclude_unset=True)
    try:
        updated = apply_change(current, fields)
    except ValidationError as exc:
        problems = field_problems(exc.errors(include_input=False), ("body",))
        raise Invalid("the settings would not be valid", problems) from None
    except SettingsChangeError as exc:
        raise Invalid(str(exc), [{"loc": ["body"], "msg": str(exc), "type": "settings_change"}]) from None
    if "entity_id" in fields and fields["entity_id"] != current.entity_id:
        msg = (
            "the entity is where the tenant signs in: change it with `blixo-intacct tenant connect --entity`"
        )
        raise Invalid(msg, [{"loc": ["body", "entity_id"], "msg": msg, "type": "settings_change"}])
    checked = sorted(CHECKED_IN_INTACCT & set(fields))
    if checked:
        missing = intacct_problems(updated)
        if missing:
            raise Invalid(
                "Intacct does not have what the settings name",
                [{"loc": ["body", checked[0]], "msg": m, "type": "intacct_lookup"} for m in missing],
            )
    sync_store().put_tenant(updated)
    logger.info("settings changed", extra={"fields": sorted(fields)})
    return SettingsView.model_validate(updated.model_dump())


def intacct_problems(settings: TenantSettings) -> list[str]:
    """The accounts and definitions the settings name that the tenant's company lacks."""
    try:
        secrets = load_tenant_secrets(settings.tenant_id)
    except TenantSecretsError:
        raise ApiProblem(HTTPStatus.SERVICE_UNAVAILABLE, "the tenant's credentials cannot be read") from None
    client = intacct_client(
        settings, secrets, runtime_config(), slots=sync_store().slots, deadline_seconds=20.0
    )
    return [p.message for p in check_intacct(client.execute, settings, secrets.intacct.company_id)]


@app.get(
    "/tenants/<tenantId>/status",
    summary="When each flow last synced, the open errors, and the queues",
    description="The figures `blixo-intacct status TENANT` shows: per flow its switch, last run, "
    "outcome, last success and records; the next scheduled pull; the queue and DLQ depths.",
    operation_id="getStatus",
    responses=responses(HTTPStatus.OK, "The status.", HTTPStatus.NOT_FOUND),
)
def get_status(tenantId: str) -> StatusReport:
    settings = _tenant(tenantId)
    return status_report([settings], sync_store(), now=datetime.now(UTC), queues=queue_depths())


@app.post(
    "/tenants/<tenantId>/sync",
    summary="Queue a pull now ('Sync now')",
    description="The hourly schedule's job, on demand (optionally some flows, or a backfill since a "
    "day). The run shows in the status as last_pull once the pull Lambda has started it.",
    operation_id="syncNow",
    status_code=HTTPStatus.ACCEPTED,
    responses=responses(
        HTTPStatus.ACCEPTED, "Queued.", HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT
    ),
)
def sync_now(
    tenantId: str,
    request: Annotated[SyncRequest | None, Body()] = None,
) -> SyncQueued:
    settings = _tenant(tenantId)
    wanted = request or SyncRequest()
    if not settings.pull_enabled:
        raise ApiProblem(HTTPStatus.CONFLICT, "every pull flow is off: turn one on in the settings first")
    try:
        job = pull_now(tenantId, flows=wanted.flows, since=wanted.since)
    except JobError as exc:
        raise Invalid(str(exc), [{"loc": ["body"], "msg": str(exc), "type": "job"}]) from None
    SqsQueue(runtime_config().pull_queue_url).send(job.to_message())
    trigger = f"{job.trigger}:{job.scheduled_for.isoformat()}"
    logger.info("pull queued", extra={"trigger": trigger, "flows": wanted.flows})
    return SyncQueued(
        queued=True,
        trigger=trigger,
        scheduled_for=job.scheduled_for,
        flows=list(wanted.flows),
        since=wanted.since,
    )


@app.get(
    "/tenants/<tenantId>/errors",
    summary="The tenant's open sync errors, newest first",
    operation_id="listErrors",
    responses=responses(HTTPStatus.OK, "The errors, each with a hint.", HTTPStatus.NOT_FOUND),
)
def list_errors(
    tenantId: str,
    *,
    direction: Annotated[Direction | None, when_given(Direction), Query(description="push or pull.")] = None,
    object_type: Annotated[
        str | None,
        when_given(Annotated[str, Field(max_length=64)]),
        Query(max_length=64, description="customer, invoice, credit_note, payment ..."),
    ] = None,
    level: Annotated[Level | None, when_given(Level), Query(description="error or warning.")] = None,
    contains: Annotated[
        str | None,
        when_given(Annotated[str, Field(max_length=200)]),
        Query(max_length=200, description="Only errors whose message contains this text."),
    ] = None,
    include_ignored: Annotated[bool, Query(description="Ignored errors too.")] = False,
) -> ErrorList:
    _tenant(tenantId)
    flt = ops.ErrorFilter(direction, object_type, level, contains, include_ignored)
    return ErrorList(errors=[ops.view(r) for r in ops.find(sync_store().errors, tenantId, flt)])


@app.post(
    "/tenants/<tenantId>/errors/<objectType>/<objectId>/retry",
    summary="Sync the object again",
    description="A push error re-sends the Blixo record as it is now; a pull error re-reads the "
    "Intacct record. Both go through the queues and writers the sync uses.",
    operation_id="retryError",
    status_code=HTTPStatus.ACCEPTED,
    responses=responses(
        HTTPStatus.ACCEPTED,
        "Queued.",
        HTTPStatus.NOT_FOUND,
        HTTPStatus.CONFLICT,
        HTTPStatus.BAD_GATEWAY,
        HTTPStatus.SERVICE_UNAVAILABLE,
    ),
)
def retry_error(tenantId: str, objectType: str, objectId: str) -> ops.RetryResult:
    _tenant(tenantId)
    record = _error_record(tenantId, objectType, objectId)
    config = runtime_config()
    send_push, send_pull = _sender(config.push_queue_url), _sender(config.pull_queue_url)
    if record.direction == "push":
        with blixo_reader(tenantId) as fetch:
            (result,) = ops.retry([record], fetch_blixo=fetch, send_push=send_push, send_pull=send_pull)
    else:
        (result,) = ops.retry(
            [record], fetch_blixo=lambda _t, _i: None, send_push=send_push, send_pull=send_pull
        )
    logger.info("sync error retried", extra={"queued": result.queued, "direction": result.direction})
    if not result.queued:
        raise ApiProblem(HTTPStatus.CONFLICT, result.detail)
    return result


@app.post(
    "/tenants/<tenantId>/errors/<objectType>/<objectId>/ignore",
    summary="Close the error with a reason",
    description="It leaves the open list; a later failure of the object opens it again.",
    operation_id="ignoreError",
    responses=responses(HTTPStatus.OK, "The error, ignored.", HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND),
)
def ignore_error(
    tenantId: str,
    objectType: str,
    objectId: str,
    request: Annotated[IgnoreRequest, Body()],
) -> ops.ErrorView:
    _tenant(tenantId)
    _error_record(tenantId, objectType, objectId)
    record = sync_store().errors.ignore(tenantId, objectType, objectId, request.reason)
    if record is None:
        raise ApiProblem(HTTPStatus.NOT_FOUND, "no such sync error (it may have synced since)")
    logger.info("sync error ignored")
    return ops.view(record)


# ------------------------------------------------------------------ the handler and the document
def unsupported_body(event: dict[str, Any]) -> bool:
    """A body in a media type other than JSON, the only one the routes read. (Powertools would try
    to parse a form or multipart body itself, and fail on a malformed one with a 500.)"""
    if not event.get("body"):
        return False
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media_type not in ("", content_types.APPLICATION_JSON)


# A settings change or a reason is a few KiB at most.
MAX_BODY_BYTES = 65_536


def _refusal(status: HTTPStatus, message: str) -> dict[str, Any]:
    return {
        "statusCode": status.value,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps({"message": message}),
        "isBase64Encoded": False,
    }


def body_problem(event: dict[str, Any]) -> dict[str, Any] | None:
    """Bodies refused before routing: too large, or JSON no client should send (deep nesting,
    lone surrogates, duplicate keys), so none reaches the models or the store."""
    body = event.get("body")
    if not body:
        return None
    raw = (
        base64.b64decode(body) if event.get("isBase64Encoded") else str(body).encode("utf-8", "surrogatepass")
    )
    if len(raw) > MAX_BODY_BYTES:
        return _refusal(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the body exceeds {MAX_BODY_BYTES} bytes")
    try:
        parse_strict_json(raw)
    except MalformedPayload as exc:
        # Only the body's JSON syntax and shape: route validation gives the field errors.
        text = str(exc)
        if "is not valid JSON" in text or "not UTF-8" in text:
            return _refusal(HTTPStatus.BAD_REQUEST, "the body is not valid JSON")
        if "must be a JSON object" not in text:
            return _refusal(HTTPStatus.BAD_REQUEST, f"the body is not acceptable JSON: {text}")
    return None


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if unsupported_body(event):
        return _refusal(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send the body as application/json")
    refused = body_problem(event)
    if refused is not None:
        return refused
    return app.resolve(event, context)


def openapi_document() -> str:
    """The OpenAPI document of the routes above (docs/openapi.json is this, committed)."""
    return app.get_openapi_json_schema(
        title=API_TITLE,
        version=API_VERSION,
        description=API_DESCRIPTION,
        security_schemes={API_KEY_SCHEME: APIKey(name=API_KEY_HEADER, in_=APIKeyIn.header)},
        security=[{API_KEY_SCHEME: []}],
    )
