"""The ``Cache-Control`` of a versioned static file through the WSGI stacks apps build.

One rule, from docs/security.md ("A versioned static file that sets a cookie is
``private``"): a file asked for at its current ``?v=`` of an app set up with the extension
(push on or off) is served ``public, max-age=31536000, immutable``, and
``private, max-age=31536000, immutable`` if its response, as the outermost of the
extension's wrappers on its way out sees it, sets a cookie (a cookie added outside every
wrapper is not seen, as the docs say). Any response the extension did not mark (a file of
an app without it, an old or missing version, a page) keeps the ``Cache-Control`` its app
wrote, cookie or not.

The stacks are generated: one to three apps, each with the extension's push on, off, or
no extension, mounted with ``DispatcherMiddleware`` inside another's ``wsgi_app``, with a
middleware that copies the environ, adds a cookie, both, or writes its own
``Cache-Control``, or none, before, between and after ``Firehose(app)`` and the mount,
in either order; hooks that set the session of a file's request, or mark files
``private``; files of the app's static folder or a blueprint's, asked by GET, HEAD or a
revalidation; each app's page, whose view asks its own app for a file of its own or of an
app mounted in it, with a test client or ``app.wsgi_app`` and a copy of its environ. The
expected value is worked out from the stack's shape alone, never read back from the
extension.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest
from flask import Blueprint, Flask, Response, request, session
from hypothesis import example, given, settings
from hypothesis import strategies as st
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from firehose_digest import Firehose
from firehose_digest.static import IMMUTABLE, PRIVATE_IMMUTABLE, file_version

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

Mode = Literal["on", "off", "none"]
#: A middleware that hands the app ``dict(environ)``, one that adds a ``Set-Cookie`` as
#: the response starts, one that does both, and one that writes its own ``Cache-Control``
#: (:data:`REWRITTEN`) over the app's.
Middleware = Literal["copy", "cookie", "copy+cookie", "cache-control"]
Folder = Literal["static", "bp.static"]
Version = Literal["current", "old", "none"]
Method = Literal["GET", "HEAD", "conditional"]
#: What the static view writes with ``SEND_FILE_MAX_AGE_DEFAULT`` unset (Flask's default).
FLASK_DEFAULT = "no-cache"
#: What an app's hook writes on its static files when it keeps them from shared caches.
MARKED_PRIVATE = "private"
#: What is wrapped at each place of a stack: mostly a middleware that adds a cookie.
PLACED: tuple[Middleware | None, ...] = (
    None,
    "cookie",
    "copy+cookie",
    "copy",
    None,
    "cache-control",
)
#: What a ``"cache-control"`` middleware writes.
REWRITTEN = "public, max-age=600"
#: The file of each folder, a different one in each app.
FILES: dict[Folder, str] = {"static": "site.css", "bp.static": "bp.css"}


@dataclass(frozen=True)
class AppShape:
    """One app: its extension, what is wrapped around its ``wsgi_app`` in which order
    (``"firehose"``: ``Firehose(app)``; ``"mount"``: ``DispatcherMiddleware`` with its
    children), the app it is mounted in, and what its hooks do to its static files."""

    mode: Mode
    wrapped: tuple[str, ...]
    parent: int | None
    #: A ``before_request`` hook sets the session of each static file's request.
    session_on_files: bool
    #: An ``after_request`` hook marks its static files ``private``.
    private_files: bool


@dataclass(frozen=True)
class FileAsk:
    """A request for a file of app ``app``."""

    app: int
    folder: Folder
    version: Version
    method: Method


@dataclass(frozen=True)
class PageAsk:
    """App ``app``'s page, whose view asks for one of ``files`` (one of ``app`` and one of
    each app mounted under it) through ``app`` itself, with a test client or
    ``app.wsgi_app``, and writes ``IMMUTABLE`` on the page."""

    app: int
    files: tuple[FileAsk, ...]
    sets_session: bool


@dataclass(frozen=True)
class Files:
    """Each app's static folder and blueprint folder, their files' versions and ETags."""

    root: Path
    versions: dict[tuple[int, Folder], str]
    etags: dict[tuple[int, Folder], str]

    def folder(self, app: int, folder: Folder) -> Path:
        return self.root / f"app{app}" / ("static" if folder == "static" else "bp/static")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    root = tmp_path_factory.mktemp("stacks")
    versions, etags = {}, {}
    for app in range(3):
        for folder, name in FILES.items():
            directory = Files(root, {}, {}).folder(app, folder)
            directory.mkdir(parents=True)
            (directory / name).write_text(f"/* app {app}, {folder} */\n")
            versions[app, folder] = file_version(str(directory / name))
            # send_file's ETag turns on the file alone: a bare app's is the stacks'.
            bare = Flask(f"bare{app}", static_folder=str(directory))
            with bare.test_client() as client:
                response = client.get(f"/static/{name}")
                etags[app, folder] = response.headers["ETag"]
                response.close()
    return Files(root, versions, etags)


# -- the stacks ----------------------------------------------------------------------------


@st.composite
def stacks(draw: st.DrawFn) -> tuple[AppShape, ...]:
    count = draw(st.integers(1, 3))
    parents: list[int | None] = [None, *(draw(st.integers(0, i - 1)) for i in range(1, count))]
    shapes = []
    for index in range(count):
        mode: Mode = draw(st.sampled_from(["on", "off", "none"]))
        core = ["firehose"] * (mode != "none") + ["mount"] * (index in parents)
        if draw(st.booleans()):
            core.reverse()
        # A middleware or none before, between and after those two: each place a cookie
        # can be added about as likely.
        wrapped: list[str] = []
        for place in range(len(core) + 1):
            kind: Middleware | None = draw(st.sampled_from(PLACED))
            wrapped += [kind] if kind is not None else []
            wrapped += core[place : place + 1]
        shapes.append(
            AppShape(
                mode,
                tuple(wrapped),
                parents[index],
                # Either leaves the wrappers outside the app's own nothing to decide:
                # drawn less often.
                draw(st.sampled_from([False, True, False])),
                draw(st.sampled_from([False, False, False, True])),
            )
        )
    return tuple(shapes)


def under(shapes: tuple[AppShape, ...], app: int) -> list[int]:
    """``app`` and the apps mounted under it, at any depth."""
    found = [app]
    for child, shape in enumerate(shapes):
        if shape.parent == app:
            found += under(shapes, child)
    return found


@st.composite
def file_asks(draw: st.DrawFn, apps: list[int]) -> FileAsk:
    return FileAsk(
        draw(st.sampled_from(apps)),
        draw(st.sampled_from(["static", "bp.static"])),
        draw(st.sampled_from(["current", "current", "current", "old", "none"])),
        draw(st.sampled_from(["GET", "HEAD", "conditional"])),
    )


@dataclass(frozen=True)
class Scenario:
    """A stack, a file of each app asked directly, and each app's page."""

    shapes: tuple[AppShape, ...]
    files: tuple[FileAsk, ...]
    pages: tuple[PageAsk, ...]


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    shapes = draw(stacks())
    files = tuple(draw(file_asks([app])) for app in range(len(shapes)))
    pages = tuple(
        PageAsk(
            app,
            tuple(draw(file_asks([below])) for below in under(shapes, app)),
            draw(st.booleans()),
        )
        for app in range(len(shapes))
    )
    return Scenario(shapes, files, pages)


def prefix(shapes: tuple[AppShape, ...], app: int, below: int | None = None) -> str:
    """The path ``app`` is mounted at, from the root (or from app ``below``)."""
    parts = []
    while app != below and (parent := shapes[app].parent) is not None:
        parts.append(f"/m{app}")
        app = parent
    return "".join(reversed(parts))


def file_url(shapes: tuple[AppShape, ...], files: Files, ask: FileAsk, below: int | None) -> str:
    path = "/static/" if ask.folder == "static" else "/bp/static/"
    url = f"{prefix(shapes, ask.app, below)}{path}{FILES[ask.folder]}"
    if ask.version == "current":
        return f"{url}?v={files.versions[ask.app, ask.folder]}"
    return f"{url}?v=0123456789" if ask.version == "old" else url


def revalidation(files: Files, ask: FileAsk) -> dict[str, str]:
    """The request headers of ``ask``: a revalidation's ``If-None-Match``."""
    if ask.method != "conditional":
        return {}
    return {"If-None-Match": files.etags[ask.app, ask.folder]}


# -- building them -------------------------------------------------------------------------


def middleware(kind: str, name: str, wsgi_app: WSGIApplication) -> WSGIApplication:
    copies, cookie = "copy" in kind, "cookie" in kind

    def wrapped(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if cookie:
                headers.append(("Set-Cookie", f"{name}=1; Path=/"))
            if kind == "cache-control":
                headers[:] = [header for header in headers if header[0] != "Cache-Control"]
                headers.append(("Cache-Control", REWRITTEN))
            return start_response(status, headers, exc_info)

        return wsgi_app(dict(environ) if copies else environ, start)

    return wrapped


#: Headers of each nested response, by the page's app, in order.
Captured = dict[int, list[tuple[str, str]]]


def build(
    shapes: tuple[AppShape, ...], files: Files, pages: tuple[PageAsk, ...]
) -> tuple[Flask, Captured]:
    apps = [
        Flask(f"stack{index}", static_folder=str(files.folder(index, "static")))
        for index in range(len(shapes))
    ]
    captured: Captured = {}
    for index, (app, shape) in enumerate(zip(apps, shapes, strict=True)):
        app.config.update(SECRET_KEY=f"stack {index}", FIREHOSE_ENABLED=shape.mode == "on")
        app.register_blueprint(
            Blueprint(
                "bp", f"stack{index}.bp", static_folder=str(files.folder(index, "bp.static"))
            ),
            url_prefix="/bp",
        )
        add_hooks(app, shape)
        add_page(app, shapes, files, pages[index], captured)
    for index, (app, shape) in enumerate(zip(apps, shapes, strict=True)):
        for position, step in enumerate(shape.wrapped):
            if step == "firehose":
                Firehose(app)
                continue
            if step == "mount":
                children: dict[str, WSGIApplication] = {
                    f"/m{i}": apps[i] for i, child in enumerate(shapes) if child.parent == index
                }
                wrapped: WSGIApplication = DispatcherMiddleware(app.wsgi_app, children)
            else:
                wrapped = middleware(step, f"mw{index}{position}", app.wsgi_app)
            app.wsgi_app = wrapped  # type: ignore[method-assign,assignment]
    return apps[0], captured


def add_hooks(app: Flask, shape: AppShape) -> None:
    def is_file() -> bool:
        return (request.endpoint or "").endswith("static")

    if shape.session_on_files:

        @app.before_request
        def count_files() -> None:
            if is_file():
                session["seen"] = request.path

    if shape.private_files:

        @app.after_request
        def keep_private(response: Response) -> Response:
            if is_file():
                response.headers["Cache-Control"] = MARKED_PRIVATE
            return response


VIAS = ("test client", "wsgi_app")


def add_page(
    app: Flask, shapes: tuple[AppShape, ...], files: Files, page: PageAsk, captured: Captured
) -> None:
    """``/page?file=<index in page.files>&via=<one of VIAS>``."""

    @app.route("/page")
    def page_view() -> Response:
        ask = page.files[int(request.args["file"])]
        url = file_url(shapes, files, ask, page.app)
        headers = revalidation(files, ask)
        method = "HEAD" if ask.method == "HEAD" else "GET"
        if request.args["via"] == "test client":
            with app.test_client(use_cookies=False) as client:
                nested = client.open(url, method=method, headers=headers)
                captured[page.app] = list(nested.headers.items())
                nested.close()
        else:
            path, _, query = url.partition("?")
            environ = dict(
                request.environ, PATH_INFO=path, QUERY_STRING=query, REQUEST_METHOD=method
            )
            if headers:
                environ["HTTP_IF_NONE_MATCH"] = headers["If-None-Match"]

            def start(status: str, sent: list[tuple[str, str]], exc_info: Any = None) -> Any:
                captured[page.app] = list(sent)

            body = app.wsgi_app(environ, start)
            b"".join(body)
            getattr(body, "close", lambda: None)()
        if page.sets_session:
            session["page"] = "seen"
        response = Response("page")
        response.headers["Cache-Control"] = IMMUTABLE
        return response


# -- the rule ------------------------------------------------------------------------------


def layers(shapes: tuple[AppShape, ...], root: int, target: int) -> list[tuple[str, int]]:
    """What a request for ``target``'s url, made of ``root``'s ``wsgi_app``, passes
    through, outermost first: each step of each app's ``wrapped`` from the last wrapped,
    into the mounted app that holds ``target`` at its mount, ending at ``target``'s Flask."""
    route = [target]
    while route[-1] != root:
        parent = shapes[route[-1]].parent
        assert parent is not None
        route.append(parent)
    route.reverse()
    passed = []
    for depth, app in enumerate(route):
        for step in reversed(shapes[app].wrapped):
            if step == "mount" and depth + 1 < len(route):
                break
            if step != "mount":
                passed.append((step, app))
    return passed


def expected(
    shapes: tuple[AppShape, ...], root: int, app: int, written: str, marked: bool, cookie: bool
) -> str:
    """The ``Cache-Control`` the rule gives a response of ``app`` made through ``root``,
    which its Flask app sent with ``written``, ``cookie`` saying whether with a cookie:
    a value the extension ``marked`` (it wrote :data:`IMMUTABLE`) is made private by the
    first of its wrappers, inside out, to see a cookie, if it is still that value; any
    other is left as the app and its middlewares wrote it."""
    value = written
    # Inside out, as the response starts: each of the extension's wrappers it passes,
    # whatever app's, sees the cookies added inside it.
    for step, _ in reversed(layers(shapes, root, app)):
        if "cookie" in step:
            cookie = True
        elif step == "cache-control":
            value = REWRITTEN
        elif step == "firehose" and marked and cookie and value == IMMUTABLE:
            value = PRIVATE_IMMUTABLE
    return value


def expected_file(shapes: tuple[AppShape, ...], root: int, ask: FileAsk) -> str:
    """The ``Cache-Control`` of ``ask``'s file made through ``root``: marked if its app
    has the extension and the version is current."""
    shape = shapes[ask.app]
    marked = shape.mode != "none" and ask.version == "current"
    if marked:
        written = PRIVATE_IMMUTABLE if shape.private_files else IMMUTABLE
    else:
        written = MARKED_PRIVATE if shape.private_files else FLASK_DEFAULT
    return expected(shapes, root, ask.app, written, marked, shape.session_on_files)


# -- the property --------------------------------------------------------------------------


def current(app: int) -> FileAsk:
    return FileAsk(app, "static", "current", "GET")


#: The stacks of bugs found before: always tried first.
KNOWN = (
    # A middleware inside the wrapper that hands Flask a copy of the environ (c81315b).
    Scenario(
        (AppShape("off", ("copy", "firehose"), None, True, False),),
        (current(0),),
        (PageAsk(0, (current(0),), False),),
    ),
    # A cookie between the site's wrapper and the mounted shop (157ecf1), and seen by the
    # site's wrapper when a view of the site asks for the shop's file (the shop's push off).
    Scenario(
        (
            AppShape("on", ("mount", "cookie", "firehose"), None, False, False),
            AppShape("off", ("firehose",), 0, False, False),
        ),
        (current(0), current(1)),
        (PageAsk(0, (current(0), current(1)), False), PageAsk(1, (current(1),), False)),
    ),
    # A view of a site with push off asking for a mounted shop's file through a
    # DispatcherMiddleware wrapped around the site's wrapper: the page is not the file.
    Scenario(
        (
            AppShape("off", ("firehose", "mount"), None, False, False),
            AppShape("on", ("firehose",), 0, False, False),
        ),
        (current(0), current(1)),
        (PageAsk(0, (current(0), current(1)), True), PageAsk(1, (current(1),), False)),
    ),
)


@settings(max_examples=400, deadline=None, database=None, derandomize=True)
@given(scenarios())
@example(scenario=KNOWN[0])
@example(scenario=KNOWN[1])
@example(scenario=KNOWN[2])
def test_a_versioned_file_is_private_when_its_response_sets_a_cookie(
    files: Files, scenario: Scenario
) -> None:
    """Each app's file asked of the root app, and each app's page asking its own app for
    each file under it both ways: each response's ``Cache-Control`` is the rule's."""
    shapes = scenario.shapes
    root, captured = build(shapes, files, scenario.pages)
    with root.test_client(use_cookies=False) as client:
        for file in scenario.files:
            response = client.open(
                file_url(shapes, files, file, None),
                method="HEAD" if file.method == "HEAD" else "GET",
                headers=revalidation(files, file),
            )
            response.close()
            assert response.status_code == (304 if file.method == "conditional" else 200)
            assert response.headers["Cache-Control"] == expected_file(shapes, 0, file), file
        for page in scenario.pages:
            # As the view wrote it (and a middleware after it), never marked.
            page_value = expected(shapes, 0, page.app, IMMUTABLE, False, page.sets_session)
            for index, file in enumerate(page.files):
                for via in VIAS:
                    query = {"file": index, "via": via}
                    response = client.get(f"{prefix(shapes, page.app)}/page", query_string=query)
                    response.close()
                    assert response.status_code == 200
                    assert response.headers["Cache-Control"] == page_value, (page, file, via)
                    nested = dict(captured.pop(page.app))
                    want = expected_file(shapes, page.app, file)
                    assert nested["Cache-Control"] == want, (page, file, via)
