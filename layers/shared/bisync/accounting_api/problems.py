"""How the Accounting Sync API refuses a request: its exceptions, their replies, the query
parameter guard, and the OpenAPI responses each route documents. Replies name fields and rules,
never a value the caller sent."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from bisync.accounting_api.bodies import InvalidRequest, Problem


class ApiProblem(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Invalid(Exception):
    """422: values that break a rule; each problem names its field (InvalidRequest)."""

    def __init__(self, message: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


def reply(status: HTTPStatus, body: dict[str, Any]) -> Response[dict[str, Any]]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


def api_problem(exc: ApiProblem) -> Response[dict[str, Any]]:
    return reply(exc.status, {"message": exc.message})


def invalid(exc: Invalid) -> Response[dict[str, Any]]:
    return reply(HTTPStatus.UNPROCESSABLE_ENTITY, {"message": exc.message, "errors": exc.errors})


def field_problems(errors: Any, prefix: tuple[str | int, ...] = ()) -> list[dict[str, Any]]:
    # Only where and what: pydantic's `input` (and `ctx`, which can quote it) never leave here.
    return [
        {
            "loc": [*prefix, *(e.get("loc") or ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in errors
    ]


def invalid_request(exc: RequestValidationError) -> Response[dict[str, Any]]:
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return reply(HTTPStatus.BAD_REQUEST, {"message": "the body is not valid JSON"})
    return invalid(Invalid("the request is not valid", field_problems(errors)))


def reject_unknown_query(router: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """A query parameter the route does not have is refused (422), not ignored: a misspelt filter
    (`directon=push`) would otherwise answer as if no filter had been asked for."""
    route = router.context["_route"]
    known = {param.alias for param in route.dependant.query_params}
    event = router.current_event
    given = set(event.query_string_parameters or {}) | set(event.multi_value_query_string_parameters or {})
    unknown = sorted(given - known)
    if unknown:
        problems = [
            {"loc": ["query", name[:64]], "msg": "not a parameter of this route", "type": "extra_forbidden"}
            for name in unknown
        ]
        raise Invalid("the request is not valid", problems)
    return next_middleware(router)


def responses(ok: HTTPStatus, description: str, *refusals: HTTPStatus) -> dict[int, Any]:
    """The OpenAPI responses of a route: its own, the refusals it can answer, and API Gateway's
    own: 403 for a missing or wrong API key, 429 over the usage plan's rate."""
    texts = {
        HTTPStatus.BAD_REQUEST: "The body is not valid JSON.",
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE: "A body in another media type than application/json.",
        HTTPStatus.FORBIDDEN: "No API key, or not a key of this API (answered by API Gateway).",
        HTTPStatus.TOO_MANY_REQUESTS: "Over the usage plan's rate for the key (answered by API Gateway); retry shortly.",
        HTTPStatus.NOT_FOUND: "No such tenant (or no such sync error).",
        HTTPStatus.CONFLICT: "Not possible in the tenant's current state; the message says why.",
        HTTPStatus.BAD_GATEWAY: "Blixo did not answer the read a retry needs; try again later.",
        HTTPStatus.SERVICE_UNAVAILABLE: "The tenant's Blixo connection is not configured yet.",
    }
    found: dict[int, Any] = {ok.value: {"description": description}}
    if HTTPStatus.BAD_REQUEST in refusals:  # a route that reads a body
        refusals = (*refusals, HTTPStatus.UNSUPPORTED_MEDIA_TYPE)
    for status in (HTTPStatus.FORBIDDEN, HTTPStatus.TOO_MANY_REQUESTS, *refusals):
        found[status.value] = {
            "description": texts[status],
            "content": {content_types.APPLICATION_JSON: {"model": Problem}},
        }
    found[HTTPStatus.UNPROCESSABLE_ENTITY.value] = {
        "description": "Invalid values: each names its field and the rule it breaks.",
        "content": {content_types.APPLICATION_JSON: {"model": InvalidRequest}},
    }
    return found
