"""Browser sign-in: who gets a session, what the cookie looks like, and what it cannot do."""

from __future__ import annotations

import base64
import stat
from typing import Any

import orjson

from limelight.api import create_app
from limelight.auth import KeyInfo, create_key, revoke_key
from limelight.config import Settings
from limelight.web.session import COOKIE, SECRET_FILE, SessionSigner
from tests.web.conftest import HTML, KEYS, TestClient, login

FORM = {**HTML, "Content-Type": "application/x-www-form-urlencoded"}


def cookie_header(answer: Any) -> str:
    headers = [v for k, v in answer.headers.multi_items() if k == "set-cookie"]
    assert len(headers) == 1, headers
    return str(headers[0])


def test_pages_send_browsers_to_the_login_form(app_client: TestClient) -> None:
    answer = app_client.get("/ui/users/ada?x=1", headers=HTML, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/login?next=/ui/users/ada%3Fx%3D1"
    form = app_client.get(answer.headers["location"], headers=HTML)
    assert form.status_code == 200
    assert 'name="api_key"' in form.text and 'type="password"' in form.text
    assert 'value="/ui/users/ada?x=1"' in form.text
    assert "default-src 'self'" in form.headers["content-security-policy"]


def test_scripts_without_a_session_get_the_api_401(app_client: TestClient, problem) -> None:
    body = problem(app_client.get("/ui/"), 401)
    assert body["required_scope"] == "read"
    problem(app_client.get("/ui/api/users?q=a"), 401)


def test_a_read_key_signs_in_with_a_strict_http_only_cookie(app_client: TestClient) -> None:
    answer = login(app_client, "read", "/ui/items")
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/items"
    header = cookie_header(answer)
    assert header.startswith(f"{COOKIE}=v1.")
    flags = {part.strip().split("=")[0].lower(): part for part in header.split(";")[1:]}
    assert "httponly" in flags
    assert flags["samesite"].strip().lower() == "samesite=strict"
    assert flags["path"].strip() == "Path=/ui"
    assert "secure" not in flags  # plain http here; set on https
    assert int(flags["max-age"].split("=")[1]) == 12 * 3600
    assert KEYS["read"] not in header  # the key is never in the cookie
    assert app_client.get("/ui/", headers=HTML).status_code == 200


def test_unknown_and_missing_keys_are_refused(app_client: TestClient) -> None:
    wrong = app_client.post(
        "/ui/login", content="api_key=not-a-key-at-all-000", headers=FORM, follow_redirects=False
    )
    assert wrong.status_code == 401 and "not known" in wrong.text
    assert "set-cookie" not in wrong.headers
    empty = app_client.post("/ui/login", content="api_key=", headers=FORM)
    assert empty.status_code == 400 and "set-cookie" not in empty.headers
    garbage = app_client.post("/ui/login", content=b"\xff\xfe", headers=FORM)
    assert garbage.status_code == 400


def test_an_ingest_only_key_gets_no_session_and_no_profiles(app_client: TestClient) -> None:
    answer = login(app_client, "ingest", "/ui/users/ada")
    assert answer.status_code == 403 and "ingest" in answer.text
    assert "set-cookie" not in answer.headers
    page = app_client.get("/ui/users/ada", headers=HTML, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/ui/login")


def test_pages_check_the_scope_of_the_session_too(app_client: TestClient, problem) -> None:
    # Defence in depth: a validly signed session of an ingest key (as an older version might
    # have issued) still cannot read a profile, as a page or as JSON.
    signer: SessionSigner = app_client.app.state.ui_sessions
    app_client.cookies.set(COOKIE, signer.issue(KeyInfo("ingest", frozenset({"ingest"}))))
    page = app_client.get("/ui/users/ada", headers=HTML)
    assert page.status_code == 403 and "read" in page.text
    assert "text/html" in page.headers["content-type"]
    problem(app_client.get("/ui/api/users?q=a"), 403)


def test_tampered_forged_and_expired_cookies_are_refused(app_client: TestClient) -> None:
    assert login(app_client, "read").status_code == 303
    token = app_client.cookies[COOKIE]
    version, payload, signature = token.split(".")
    body = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["scopes"] = ["admin"]
    raised = base64.urlsafe_b64encode(orjson.dumps(body)).rstrip(b"=").decode()
    signer: SessionSigner = app_client.app.state.ui_sessions
    expired = signer.issue(KeyInfo("read", frozenset({"read"})), now=0.0)
    other = SessionSigner(app_client.app.state.settings.data_dir / "elsewhere")
    for bad in (
        f"{version}.{raised}.{signature}",  # payload changed, signature kept
        f"{version}.{payload}.{signature[:-2]}AA",  # signature changed
        other.issue(KeyInfo("read", frozenset({"read"}))),  # signed under another secret
        expired,
        "v1.garbage",
        "",
    ):
        app_client.cookies.set(COOKIE, bad)
        answer = app_client.get("/ui/", headers=HTML, follow_redirects=False)
        assert answer.status_code == 303, bad
        assert answer.headers["location"] == "/ui/login?next=/ui/"
        if bad:
            assert 'limelight_session=""' in cookie_header(answer)  # dropped
    app_client.cookies.clear()
    odd = f"{COOKIE}=v1.\xe9.{signature}".encode("latin-1")  # not ASCII: refused, not a 500
    refused = app_client.get("/ui/", headers={**HTML, "Cookie": odd}, follow_redirects=False)
    assert refused.status_code == 303
    app_client.cookies.set(COOKIE, token)
    assert app_client.get("/ui/", headers=HTML).status_code == 200


def test_logout_clears_the_cookie(app_client: TestClient) -> None:
    assert login(app_client, "admin").status_code == 303
    answer = app_client.post("/ui/logout", headers=HTML, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/login"
    header = cookie_header(answer)
    assert 'limelight_session=""' in header and "Max-Age=0" in header and "Path=/ui" in header
    assert COOKIE not in app_client.cookies
    after = app_client.get("/ui/", headers=HTML, follow_redirects=False)
    assert after.status_code == 303


def test_revoking_the_key_ends_its_sessions(web_settings: Settings) -> None:
    key = create_key(web_settings, ["read"], "laptop")
    with TestClient(create_app(web_settings)) as client:
        answer = client.post(
            "/ui/login", content=f"api_key={key}", headers=FORM, follow_redirects=False
        )
        assert answer.status_code == 303
        assert client.get("/ui/", headers=HTML).status_code == 200
        assert revoke_key(web_settings, "laptop") == 1
        assert client.get("/ui/", headers=HTML, follow_redirects=False).status_code == 303


def test_cross_site_forms_and_redirects_are_refused(app_client: TestClient) -> None:
    evil = {**FORM, "Origin": "https://evil.example"}
    answer = app_client.post(
        "/ui/login", content=f"api_key={KEYS['admin']}", headers=evil, follow_redirects=False
    )
    assert answer.status_code == 403 and "set-cookie" not in answer.headers
    same = {**FORM, "Origin": "http://testserver"}
    for target in ("https://evil.example/", "//evil.example", "/\\evil.example", "/v1/items"):
        answer = app_client.post(
            "/ui/login",
            content=f"api_key={KEYS['admin']}&next={target}",
            headers=same,
            follow_redirects=False,
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/ui/", target
    assert app_client.post("/ui/logout", headers=evil).status_code == 403


def test_the_session_secret_is_private_and_survives_restarts(web_settings: Settings) -> None:
    with TestClient(create_app(web_settings)) as first:
        assert login(first, "read").status_code == 303
        token = first.cookies[COOKIE]
    secret = web_settings.data_dir / SECRET_FILE
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert len(secret.read_text()) == 64
    with TestClient(create_app(web_settings)) as second:
        second.cookies.set(COOKIE, token)
        assert second.get("/ui/", headers=HTML).status_code == 200


def test_the_json_api_does_not_take_the_cookie(app_client: TestClient, problem) -> None:
    assert login(app_client, "admin").status_code == 303
    token = app_client.cookies[COOKIE]
    app_client.cookies.clear()
    sent = {"Cookie": f"{COOKIE}={token}"}  # as if the browser sent it beyond /ui
    assert app_client.get("/ui/", headers={**HTML, **sent}).status_code == 200
    problem(app_client.get("/v1/items", headers=sent), 401)
    problem(app_client.post("/v1/events", json=[], headers=sent), 401)


def test_cookie_calls_that_change_state_need_the_ui_header(app_client: TestClient, problem) -> None:
    assert login(app_client, "admin").status_code == 303
    click = {
        "event_id": "c1",
        "type": "click",
        "user_id": "ada",
        "properties": {"item_id": "m1"},
    }
    problem(app_client.post("/ui/api/events", json={"batch": [click]}), 403, "X-Limelight-UI")
    sent = app_client.post(
        "/ui/api/events", json={"batch": [click]}, headers={"X-Limelight-UI": "1"}
    )
    assert sent.status_code == 200 and sent.json()["accepted"] == 1


def test_a_read_only_session_cannot_send_events(app_client: TestClient, problem) -> None:
    assert login(app_client, "read").status_code == 303
    body = problem(app_client.post("/ui/api/events", json=[], headers={"X-Limelight-UI": "1"}), 403)
    assert body["required_scope"] == "ingest"
