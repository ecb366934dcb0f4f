"""Every route is guarded by a scope, found by walking ``app.routes``, so new routes are covered.

A route added later without ``require(...)`` fails ``test_every_api_route_declares_one_scope``;
one with a scope is exercised by the probes below without editing this file. FastAPI keeps
included routers lazily in ``app.routes``, so the walk goes through
``fastapi.routing.iter_route_contexts``, and ``KNOWN`` guards against an enumeration that
silently finds nothing.
"""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from fastapi.testclient import TestClient

from limelight.api.deps import ScopeCheck

OPEN_ROUTES = {
    "/healthz",
    # The dashboard's public parts: its login form, logout (it only clears a cookie), its CSS
    # and JavaScript, and artwork images (embedded in pages; they show a title and nothing else).
    "/ui/login",
    "/ui/logout",
    "/ui/static/{name}",
    "/ui/artwork/{item_id:path}/{artwork_id}.svg",
}
KNOWN = {
    ("GET", "/healthz"),
    ("POST", "/v1/events"),
    ("GET", "/v1/users/{user_id}/profile"),
    ("GET", "/v1/users/{user_id}/export"),
    ("DELETE", "/v1/users/{user_id}"),
    ("PUT", "/v1/items"),
    ("GET", "/v1/items"),
    ("GET", "/v1/items/{item_id}"),
}
DOCS_ROUTES = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
#: Keys that must be refused (403) for a route needing each scope.
LACKING = {"ingest": ["read"], "read": ["ingest"], "admin": ["ingest", "read"]}


def scopes_of(route: RouteContext) -> list[str]:
    """The scopes a route checks, from its effective dependency tree."""
    found: list[str] = []
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        if isinstance(dependant.call, ScopeCheck):
            found.append(dependant.call.scope)
        pending.extend(dependant.dependencies)
    return found


def endpoints(client: TestClient) -> list[RouteContext]:
    """Every API endpoint, through included routers; anything else must be the docs."""
    found = []
    for context in iter_route_contexts(client.app.routes):
        if isinstance(context.original_route, APIRoute):
            found.append(context)
        else:
            assert context.path in DOCS_ROUTES, f"unexpected route {context.path}"
    return found


def api_routes(client: TestClient) -> list[tuple[str, str, str, str | None]]:
    """(method, path template, concrete url, scope) for every route and method of the app."""
    probes = []
    for route in endpoints(client):
        url = route.path_format.format(**{name: "probe" for name in route.param_convertors})
        scopes = scopes_of(route)
        for method in sorted(route.methods):
            probes.append((method, route.path_format, url, scopes[0] if scopes else None))
    assert {(method, path) for method, path, _, _ in probes} >= KNOWN
    return probes


def send(client: TestClient, method: str, url: str, headers: dict[str, str]) -> Any:
    body = {"json": []} if method in ("POST", "PUT", "PATCH") else {}
    return client.request(method, url, headers=headers, **body)


def test_every_api_route_declares_one_scope(client: TestClient) -> None:
    for route in endpoints(client):
        expected = 0 if route.path in OPEN_ROUTES else 1
        assert len(scopes_of(route)) == expected, (route.path, scopes_of(route))
    assert len(api_routes(client)) >= len(KNOWN)


def test_missing_or_unknown_key_is_401_on_every_guarded_route(client: TestClient, problem) -> None:
    for method, _, url, scope in api_routes(client):
        if scope is None:
            continue
        for headers in (
            {},
            {"Authorization": "Bearer not-a-real-key-at-all"},
            {"X-API-Key": "not-a-real-key-at-all"},
            {"Authorization": "Basic dXNlcjpwYXNz"},
        ):
            response = send(client, method, url, headers)
            body = problem(response, 401)
            assert response.headers["www-authenticate"] == "Bearer", (method, url)
            assert body["required_scope"] == scope
            assert repr(scope) in body["detail"]


def test_key_without_the_scope_is_403_on_every_guarded_route(
    client: TestClient, keys, problem
) -> None:
    for method, _, url, scope in api_routes(client):
        if scope is None:
            continue
        for lacking in LACKING[scope]:
            for headers in (keys.bearer(lacking), {"X-API-Key": keys.of(lacking)}):
                body = problem(send(client, method, url, headers), 403)
                assert body["required_scope"] == scope, (method, url, lacking)
                assert repr(scope) in body["detail"]


def test_the_right_scope_and_admin_pass_auth_on_every_route(client: TestClient, keys) -> None:
    for method, _, url, scope in api_routes(client):
        for granted in {scope or "read", "admin"}:
            for headers in (keys.bearer(granted), {"X-API-Key": keys.of(granted)}):
                response = send(client, method, url, headers)
                assert response.status_code not in (401, 403), (method, url, granted)
                assert response.status_code < 500, (method, url, response.text)


def test_healthz_and_docs_are_open(client: TestClient) -> None:
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert client.get("/docs").status_code == 200
    assert client.get("/openapi.json").status_code == 200


def test_openapi_declares_both_key_schemes_on_every_guarded_operation(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["BearerKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["BearerKey"]["description"],
    }
    assert schemes["ApiKeyHeader"]["in"] == "header"
    assert schemes["ApiKeyHeader"]["name"] == "X-API-Key"
    for method, path, _, scope in api_routes(client):
        operation = spec["paths"][path][method.lower()]
        if scope is None:
            assert "security" not in operation
        else:
            assert operation["security"] == [{"BearerKey": [scope]}, {"ApiKeyHeader": [scope]}]
    assert "EventIn" in spec["components"]["schemas"]
    assert "Problem" in spec["components"]["schemas"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]  # never sent


def test_every_openapi_reference_resolves(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    refs: set[str] = set()
    pending: list[Any] = [spec]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.add(node["$ref"])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/") in spec["components"]["schemas"], ref
    for operations in spec["paths"].values():
        for operation in operations.values():
            for status, answer in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert list(answer["content"]) == ["application/problem+json"], status
