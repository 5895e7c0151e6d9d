"""docs/openapi.json is the document generated from the API's routes and models, committed."""

from __future__ import annotations

import json

from openapi_spec_validator import validate

from functions.api import openapi
from functions.api.app import API_KEY_HEADER, app

REGENERATE = "python -m functions.api.openapi"


def committed() -> dict[str, object]:
    loaded: dict[str, object] = json.loads(openapi.DOCUMENT.read_text(encoding="utf-8"))
    return loaded


def test_the_committed_document_is_the_generated_one() -> None:
    assert openapi.DOCUMENT.read_text(encoding="utf-8") == openapi.render(), (
        f"docs/openapi.json is out of date: run `{REGENERATE}`"
    )


def test_the_check_mode_says_so_when_it_differs(tmp_path, monkeypatch) -> None:
    stale = tmp_path / "openapi.json"
    stale.write_text("{}\n")
    monkeypatch.setattr(openapi, "DOCUMENT", stale)
    assert openapi.main(["--check"]) == 1
    assert openapi.main([]) == 0
    assert openapi.main(["--check"]) == 0


def test_the_document_is_valid_openapi() -> None:
    validate(committed())  # raises on an invalid document


def test_every_route_is_in_the_document_and_needs_the_api_key() -> None:
    doc = committed()
    paths: dict[str, dict[str, object]] = doc["paths"]  # type: ignore[assignment]
    documented = {(method.upper(), path) for path, item in paths.items() for method in item}
    routes = {(route.method, route.openapi_path) for route in app._static_routes + app._dynamic_routes}
    assert documented == routes
    assert len(documented) == 7
    assert doc["security"] == [{"apiKey": []}]
    assert doc["components"]["securitySchemes"]["apiKey"] == {  # type: ignore[index]
        "type": "apiKey",
        "in": "header",
        "name": API_KEY_HEADER,
    }


def test_every_operation_documents_its_refusals() -> None:
    paths: dict[str, dict[str, dict[str, object]]] = committed()["paths"]  # type: ignore[assignment]
    for path, item in paths.items():
        for method, operation in item.items():
            responses: dict[str, object] = operation["responses"]  # type: ignore[assignment]
            assert {"403", "422", "429"} <= set(responses), (method, path)
            if "{tenantId}" in path:
                assert "404" in responses, (method, path)
            if "requestBody" in operation:
                assert {"400", "415"} <= set(responses), (method, path)
