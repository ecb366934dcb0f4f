"""Browser sessions for the dashboard: sign in once with an API key, then a signed cookie.

Why: pages and their images are fetched by the browser, which cannot add an ``Authorization``
header to a navigation, and a key in a URL ends up in histories and logs. So the operator pastes
a key into ``/ui/login``; it is checked with the app's ``KeyRing`` and exchanged for a cookie
that names the key (its name and creation time, never the key) and the scopes it had. The cookie
is HttpOnly (scripts cannot read it), SameSite=Strict (other sites cannot make the browser send
it), limited to ``/ui`` and signed with HMAC-SHA256 under a secret kept in ``data_dir``.

The cookie is accepted only by ``/ui`` routes, never by ``/v1``: the JSON API keeps its rules
(a key in a header, nothing else). Cookie-authenticated calls that change state must also send
``X-Limelight-UI: 1``, a header a cross-site form cannot set and a cross-site script cannot send
without a CORS preflight this app never grants. Each request re-checks that the key behind a
session still exists with those scopes, so revoking a key ends its sessions.

This module avoids ``from __future__ import annotations`` for the same reason as
``limelight.api.deps``: FastAPI reads the annotations of ``SessionScope.__call__`` at runtime.
"""

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import orjson
from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials
from starlette.responses import Response

from limelight.api.deps import ScopeCheck, api_key_scheme, bearer_scheme
from limelight.api.problems import ProblemError
from limelight.auth import KeyInfo, KeyRing, grants
from limelight.config import Scope

COOKIE = "limelight_session"
COOKIE_PATH = "/ui"
LIFETIME_S = 12 * 3600
UI_HEADER = "X-Limelight-UI"
SECRET_FILE = "ui_session.secret"
#: Scopes that may hold a dashboard session: every page reads, so an ingest-only key gets none.
SESSION_SCOPES = ("read", "admin")
_VERSION = "v1"


@dataclass(frozen=True, slots=True)
class Session:
    """What a valid session cookie says: which key signed in, with which scopes, until when."""

    name: str
    created_at: str | None
    scopes: frozenset[str]
    issued_at: float
    expires_at: float

    def key_info(self) -> KeyInfo:
        return KeyInfo(self.name, self.scopes, self.created_at)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionSigner:
    """Issues and verifies session tokens under a secret created on first use in ``data_dir``.

    The secret lives in a file (mode 0600) rather than in settings so that it survives restarts
    without anyone having to invent and inject one; every server sharing ``data_dir`` shares it.
    Deleting the file ends every session.
    """

    def __init__(self, data_dir: Path, *, lifetime_s: float = LIFETIME_S) -> None:
        self.path = data_dir / SECRET_FILE
        self.lifetime_s = lifetime_s
        self._secret: bytes | None = None
        self._lock = threading.Lock()

    def secret(self) -> bytes:
        """The HMAC secret, read from its file or created there (atomically) the first time."""
        with self._lock:
            if self._secret is None:
                self._secret = self._load_or_create()
            return self._secret

    def _load_or_create(self) -> bytes:
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            draft = self.path.with_name(f".{SECRET_FILE}.{secrets.token_hex(8)}")
            descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(32))
            try:
                os.link(draft, self.path)  # fails if another process won the race: use theirs
            except FileExistsError:
                pass
            finally:
                draft.unlink()
        text = self.path.read_text().strip()
        if len(text) < 64:
            raise RuntimeError(f"{self.path} is not a session secret; delete it to make a new one")
        return text.encode()

    def _sign(self, payload: str) -> str:
        digest = hmac.new(self.secret(), f"{_VERSION}.{payload}".encode(), hashlib.sha256)
        return _b64(digest.digest())

    def issue(self, info: KeyInfo, *, now: float | None = None) -> str:
        """A token for a session of the key described by ``info``."""
        issued = time.time() if now is None else now
        body = {
            "name": info.name,
            "created_at": info.created_at,
            "scopes": sorted(info.scopes),
            "iat": issued,
            "exp": issued + self.lifetime_s,
            "nonce": secrets.token_hex(8),
        }
        payload = _b64(orjson.dumps(body))
        return f"{_VERSION}.{payload}.{self._sign(payload)}"

    def verify(self, token: str, *, now: float | None = None) -> Session | None:
        """The session a token stands for, or None if it is malformed, forged or expired."""
        parts = token.split(".")
        if not token.isascii() or len(parts) != 3 or parts[0] != _VERSION:
            return None
        _, payload, signature = parts
        if not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            body = orjson.loads(_unb64(payload))
            session = Session(
                name=str(body["name"]),
                created_at=None if body["created_at"] is None else str(body["created_at"]),
                scopes=frozenset(str(scope) for scope in body["scopes"]),
                issued_at=float(body["iat"]),
                expires_at=float(body["exp"]),
            )
        except (binascii.Error, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return None
        moment = time.time() if now is None else now
        if session.issued_at > moment + 60 or moment >= session.expires_at:
            return None
        return session


def signer_of(request: Request) -> SessionSigner:
    signer: SessionSigner = request.app.state.ui_sessions
    return signer


def current_session(request: Request) -> Session | None:
    """The request's valid session, with its scopes cut to what the key still grants."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    session = signer_of(request).verify(token)
    if session is None:
        return None
    keyring: KeyRing = request.app.state.keyring
    still = [
        info
        for info in keyring.infos()
        if info.name == session.name and info.created_at == session.created_at
    ]
    scopes = session.scopes & frozenset[str]().union(*(info.scopes for info in still))
    if not scopes:
        return None  # the key was revoked (or lost every scope the session had)
    return Session(session.name, session.created_at, scopes, session.issued_at, session.expires_at)


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(signer_of(request).lifetime_s),
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        COOKIE,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def wants_html(request: Request) -> bool:
    """Whether the client is a browser navigating (it asks for HTML), not a script or a tool."""
    return "text/html" in request.headers.get("accept", "")


def same_origin(request: Request) -> bool:
    """False when a browser says the request comes from another site (form POSTs send Origin).

    No Origin header is allowed (tools and old browsers send none); ``Origin: null`` is not.
    """
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("x-forwarded-host") or request.headers.get("host", "")
    return urlsplit(origin).netloc.lower() == host.lower() and origin != "null"


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only a path of the dashboard, never another site."""
    if (
        target
        and (target == COOKIE_PATH or target.startswith(COOKIE_PATH + "/"))
        and "\\" not in target
        and target.isprintable()
    ):
        return target
    return COOKIE_PATH + "/"


class LoginRequired(Exception):
    """A browser asked for a page without a valid session: it is sent to the login form."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class PageError(Exception):
    """An error a browser should see as a page (the app answers others with problem+json)."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail


class SessionScope(ScopeCheck):
    """Admits a request whose API key header, or else whose dashboard session, grants ``scope``.

    A key header wins and goes through the API's own check unchanged, so tools and tests can
    read pages with a key. Without one, the session cookie decides; a browser without a valid
    session is sent to the login form, anyone else gets the API's 401. ``csrf`` (for routes
    that change state) requires ``X-Limelight-UI: 1`` on cookie-authenticated requests.

    A subclass of ``ScopeCheck`` so that the route walk in the auth tests finds its scope and
    the OpenAPI document lists the same key schemes as the API's routes.
    """

    def __init__(self, scope: Scope, *, page: bool, csrf: bool = False) -> None:
        super().__init__(scope)
        self.page = page
        self.csrf = csrf

    async def __call__(
        self,
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
        header_key: Annotated[str | None, Depends(api_key_scheme)],
    ) -> KeyInfo:
        headers = request.headers
        if "authorization" in headers or "x-api-key" in headers:
            return await super().__call__(request, bearer, header_key)
        session = current_session(request)
        browser = self.page and wants_html(request)
        if session is None:
            if browser:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                raise LoginRequired(target)
            return await super().__call__(request, None, None)  # the API's 401, as a problem
        if self.csrf and headers.get(UI_HEADER) != "1":
            raise ProblemError(
                403,
                "Forbidden",
                f"requests authenticated by the dashboard's cookie must send `{UI_HEADER}: 1`",
                slug="missing-ui-header",
                field=UI_HEADER,
            )
        if not grants(session.scopes, self.scope):
            detail = (
                f"the key {session.name!r} has {', '.join(sorted(session.scopes))}; this needs "
                f"the {self.scope!r} scope (or 'admin')"
            )
            if browser:
                raise PageError(403, "Not allowed", detail)
            raise ProblemError(
                403,
                "Forbidden",
                detail,
                slug="missing-scope",
                extensions={"required_scope": self.scope},
            )
        return session.key_info()


def ui_require(scope: Scope, *, page: bool = True, csrf: bool = False) -> Any:
    """``Security`` dependency for a dashboard route; like ``require`` but also takes a session."""
    return Security(SessionScope(scope, page=page, csrf=csrf), scopes=[scope])
