"""The dashboard's routes under ``/ui``: pages, their JSON helpers, artwork images and login.

Routes stay thin: read models come from ``limelight.web.views``, the home page from
``limelight.web.preview.build_page`` (the real home page of ``limelight.pages``), images from
``limelight.web.artwork``. Pages need the ``read`` scope and the click endpoint ``ingest``,
checked by ``ui_require`` against a key header or the session cookie. Only the login form,
logout, static files and artwork images are open: images are embedded in pages and carry
nothing but a title.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any, get_args
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi import Path as PathParam
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.responses import HTMLResponse, RedirectResponse, Response

from limelight.api.compute import compute
from limelight.api.deps import EngineDep, EventBatch
from limelight.api.problems import ProblemError, problem_responses
from limelight.api.schemas import EventRejection, IngestResponse
from limelight.auth import KeyInfo, KeyRing, grants
from limelight.catalog.model import ItemKind
from limelight.catalog.store import ItemFilter
from limelight.errors import NotFound, UnknownItem, UnknownUser
from limelight.web import views
from limelight.web.artwork import render_svg
from limelight.web.preview import DEVICES, MOODS, TIMES, build_page
from limelight.web.session import (
    COOKIE,
    LoginRequired,
    PageError,
    SessionSigner,
    clear_session_cookie,
    current_session,
    safe_next,
    same_origin,
    set_session_cookie,
    signer_of,
    ui_require,
)

HERE = Path(__file__).parent
STATIC = HERE / "static"
CSP = (
    "default-src 'self'; img-src 'self' data: https:; script-src 'self'; style-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
#: Pages show personal data: never cached, never framed, no referrer to other sites.
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
IMAGE_CACHE = "public, max-age=3600"
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
PAGE_SIZE = 24

Reader = Annotated[KeyInfo, ui_require("read")]
PathId = Annotated[str, PathParam(min_length=1, max_length=261)]


def _load_static() -> dict[str, tuple[bytes, str, str]]:
    """Static files (bytes, media type, ETag), read once: a fixed set, so no path tricks."""
    found = {}
    for path in sorted(STATIC.iterdir()):
        if path.suffix in STATIC_TYPES:
            data = path.read_bytes()
            found[path.name] = (data, STATIC_TYPES[path.suffix], hashlib.sha256(data).hexdigest())
    return found


_STATIC = _load_static()
ASSET_VERSION = hashlib.sha256("".join(tag for _, _, tag in _STATIC.values()).encode()).hexdigest()


def _segment(value: object) -> str:
    """A value quoted for use as one path segment of a dashboard link."""
    return quote(str(value), safe="")


def _percent(value: float) -> str:
    return f"{value:.0%}"


templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=True,  # every template is HTML
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters["segment"] = _segment
templates.filters["percent"] = _percent


def render(name: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """A page rendered from a template, with the headers every page carries."""
    context.setdefault("viewer", None)
    context.setdefault("active", "")
    context.setdefault("picker_target", "profile")
    html = templates.get_template(name).render(asset=ASSET_VERSION[:12], **context)
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def _not_modified(request: Request, etag: str, headers: dict[str, str]) -> Response | None:
    wanted = request.headers.get("if-none-match", "")
    if etag in {tag.strip() for tag in wanted.split(",")} or wanted.strip() == "*":
        return Response(status_code=304, headers=headers)
    return None


router = APIRouter(prefix="/ui", tags=["dashboard"])

# -- open: static files, artwork, login -------------------------------------------------------


@router.get("/static/{name}", responses=problem_responses(404))
def static_file(request: Request, name: str) -> Response:
    """The dashboard's CSS and JavaScript (no build step; a fixed set of files)."""
    found = _STATIC.get(name)
    if found is None:
        raise NotFound(f"no static file {name!r}", field="name")
    data, media_type, digest = found
    headers = {"ETag": f'"{digest[:32]}"', "Cache-Control": IMAGE_CACHE}
    return _not_modified(request, headers["ETag"], headers) or Response(
        data, media_type=media_type, headers=headers
    )


@router.get(
    "/artwork/{item_id:path}/{artwork_id}.svg",
    responses={
        200: {"content": {"image/svg+xml": {}}, "description": "The generated poster."},
        **problem_responses(404),
    },
    response_class=Response,
)
def artwork_image(
    request: Request,
    engine: EngineDep,
    item_id: Annotated[str, PathParam(min_length=1, max_length=256)],
    artwork_id: Annotated[str, PathParam(min_length=1, max_length=128)],
) -> Response:
    """A generated poster of one artwork variant; its look follows the variant's attributes."""
    item = engine.item(item_id)
    art = next((a for a in item.artwork or [] if a.artwork_id == artwork_id), None)
    if art is None:
        raise NotFound(f"item {item_id!r} has no artwork {artwork_id!r}", field="artwork_id")
    svg = render_svg(item.item_id, art.artwork_id, item.title, art.attributes).encode()
    headers = {
        "ETag": f'"{hashlib.sha256(svg).hexdigest()[:32]}"',
        "Cache-Control": IMAGE_CACHE,
        "Content-Security-Policy": "default-src 'none'",
        "X-Content-Type-Options": "nosniff",
    }
    return _not_modified(request, headers["ETag"], headers) or Response(
        svg, media_type="image/svg+xml", headers=headers
    )


_LOGIN_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {"api_key": {"type": "string"}, "next": {"type": "string"}},
                    "required": ["api_key"],
                }
            }
        },
    }
}


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request, next_url: Annotated[str | None, Query(alias="next")] = None
) -> Response:
    """The sign-in form (a signed-in browser goes straight on)."""
    if current_session(request) is not None:
        return RedirectResponse(safe_next(next_url), status_code=303)
    return render("login.html", next=safe_next(next_url), error=None)


@router.post("/login", response_class=HTMLResponse, openapi_extra=_LOGIN_BODY)
async def login(request: Request) -> Response:
    """Check a pasted API key and exchange it for a session cookie (read or admin keys only)."""
    if not same_origin(request):
        return render("login.html", status=403, next=safe_next(None), error="Cross-site sign-in.")
    try:
        fields = parse_qs((await request.body()).decode(), max_num_fields=8)
    except (UnicodeDecodeError, ValueError):
        fields = {}
    key = (fields.get("api_key") or [""])[0].strip()
    next_url = safe_next(fields.get("next", [""])[0] or None)
    if not key:
        return render("login.html", status=400, next=next_url, error="Paste an API key.")
    keyring: KeyRing = request.app.state.keyring
    info = keyring.lookup(key)
    if info is None:
        refused = render("login.html", status=401, next=next_url, error="That key is not known.")
        refused.headers["WWW-Authenticate"] = 'Bearer realm="limelight"'
        return refused
    if not grants(info.scopes, "read"):
        return render(
            "login.html",
            status=403,
            next=next_url,
            error="This key can only send events (ingest scope). The dashboard needs a key "
            "with the read or admin scope.",
        )
    response = RedirectResponse(next_url, status_code=303)
    set_session_cookie(response, request, signer_of(request).issue(info))
    return response


@router.post("/logout", response_class=HTMLResponse)
def logout(request: Request) -> Response:
    """End the browser's session (the cookie is cleared; the key itself stays valid)."""
    if not same_origin(request):
        return render("error.html", status=403, title="Not allowed", detail="Cross-site sign-out.")
    response = RedirectResponse("/ui/login", status_code=303)
    clear_session_cookie(response, request)
    return response


# -- pages (read) -----------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def overview(engine: EngineDep, viewer: Reader) -> Response:
    """Catalogue size, events stored, people with profiles and the latest events."""
    return render("overview.html", viewer=viewer, active="overview", stats=views.overview(engine))


@router.get("/users", response_class=HTMLResponse)
def users(
    engine: EngineDep,
    viewer: Reader,
    q: Annotated[str, Query(max_length=261)] = "",
    to: Annotated[str, Query(pattern="^(profile|home)$")] = "profile",
) -> Response:
    """Find users by id; an exact match goes straight to their profile (or home preview)."""
    found = views.search_users(engine, q, limit=50)
    exact = [user for user in found if user["user_id"] == q.strip()]
    if exact:
        where = "home" if to == "home" else "users"
        return RedirectResponse(f"/ui/{where}/{_segment(exact[0]['user_id'])}", status_code=303)
    return render(
        "users.html", viewer=viewer, active="users", query=q, users=found, picker_target=to
    )


@router.get("/users/{user_id:path}", response_class=HTMLResponse)
def user_profile(engine: EngineDep, viewer: Reader, user_id: PathId) -> Response:
    """A person's live profile: counts, genre affinity, habits, recent items and consent."""
    try:
        profile = engine.profile(user_id, items=30)
    except UnknownUser as error:
        raise PageError(404, "No such user", error.message) from error
    return render("user.html", viewer=viewer, active="users", page=views.user_page(engine, profile))


@router.get("/items", response_class=HTMLResponse)
def catalogue(
    engine: EngineDep,
    viewer: Reader,
    q: Annotated[str, Query(max_length=200)] = "",
    genre: Annotated[str, Query(max_length=100)] = "",
    kind: Annotated[str, Query(max_length=32)] = "",
    after: Annotated[str, Query(max_length=256)] = "",
) -> Response:
    """The catalogue with filters, each title's artwork variants side by side."""
    kinds = get_args(ItemKind)
    found = engine.items(
        ItemFilter(
            query=q or None,
            genre=genre or None,
            kind=kind if kind in kinds else None,
            after=after or None,
            limit=PAGE_SIZE + 1,
        )
    )
    shown = found[:PAGE_SIZE]
    return render(
        "items.html",
        viewer=viewer,
        active="items",
        items=shown,
        next=shown[-1].item_id if len(found) > PAGE_SIZE else None,
        filters={"q": q, "genre": genre, "kind": kind},
        genres=views.catalogue_genres(engine),
        kinds=kinds,
    )


@router.get("/items/{item_id:path}", response_class=HTMLResponse)
def catalogue_item(engine: EngineDep, viewer: Reader, item_id: PathId) -> Response:
    """One title with every artwork variant and its attributes."""
    try:
        item = engine.item(item_id)
    except UnknownItem as error:
        raise PageError(404, "No such title", error.message) from error
    people = views.people_with(engine, item.item_id)
    return render("item.html", viewer=viewer, active="items", item=item, people=people)


@router.get("/home/{user_id:path}", response_class=HTMLResponse)
async def home_preview(
    request: Request,
    engine: EngineDep,
    viewer: Reader,
    user_id: PathId,
    device: Annotated[str | None, Query(max_length=16)] = None,
    time: Annotated[str | None, Query(max_length=16)] = None,
    mood: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """The home page this person would get in this context, tile by tile with reasons (composed
    in the compute lane, as the API's pages are)."""
    choice = {"device": device, "time_of_day": time, "mood": mood}
    page = await compute(request, build_page, engine, user_id, choice)
    return render(
        "home.html",
        viewer=viewer,
        active="home",
        page=page,
        picker_target="home",
        choices={"device": DEVICES, "time": TIMES, "mood": tuple(MOODS)},
    )


# -- JSON helpers for the pages' scripts ------------------------------------------------------


@router.get("/api/users")
def find_users(
    engine: EngineDep,
    _viewer: Annotated[KeyInfo, ui_require("read", page=False)],
    q: Annotated[str, Query(max_length=261)] = "",
) -> dict[str, list[dict[str, Any]]]:
    """Users whose id matches ``q`` (for the user picker)."""
    return {"users": views.search_users(engine, q, limit=20)}


@router.post(
    "/api/events",
    response_model=IngestResponse,
    responses={**problem_responses(400, 413, 422)},
)
def send_events(
    engine: EngineDep,
    _viewer: Annotated[KeyInfo, ui_require("ingest", page=False, csrf=True)],
    batch: EventBatch,
) -> IngestResponse:
    """Store events sent by a page (clicks on tiles), like ``POST /v1/events``.

    Open to a session whose key may ingest (ingest scope or admin); cookie-authenticated calls
    must send ``X-Limelight-UI: 1``.
    """
    result = engine.ingest(batch)
    if result.rejected:
        raise ProblemError(
            422,
            "Some events were rejected",
            f"{len(result.rejected)} of {len(batch)} events were rejected (see `rejected`)",
            slug="events-rejected",
            field="batch",
            extensions={
                "accepted": result.accepted,
                "duplicates": result.duplicates,
                "rejected": [
                    EventRejection(
                        index=r.index, field=r.field, reason=r.reason, event_id=r.event_id
                    ).model_dump()
                    for r in result.rejected
                ],
            },
        )
    return IngestResponse(accepted=result.accepted, duplicates=result.duplicates)


# -- wiring -----------------------------------------------------------------------------------


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    response = RedirectResponse(f"/ui/login?next={quote(exc.next_url, safe='/')}", 303)
    if COOKIE in request.cookies:  # expired, forged or revoked: drop it
        clear_session_cookie(response, request)
    return response


async def _page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    session = current_session(request)
    return render(
        "error.html",
        status=exc.status,
        viewer=None if session is None else session.key_info(),
        title=exc.title,
        detail=exc.detail,
    )


def install(app: FastAPI) -> None:
    """Add the dashboard to ``app`` (see ``limelight.web.install_web``)."""
    app.state.ui_sessions = SessionSigner(app.state.settings.data_dir)
    app.include_router(router)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(PageError, _page_error)
