"""push_static() and static_tag(): versioned urls, the hint each extension needs, the element.

Every static folder is a fresh directory; a file's version is the first 10 hex digits of
the BLAKE2b hash of its bytes, pinned once below and computed by ``version()`` elsewhere.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import logging
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from cachelib import SimpleCache
from flask import (
    Blueprint,
    Flask,
    Response,
    render_template_string,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask.testing import FlaskClient
from flask.views import MethodView, View
from flask_session import Session  # type: ignore[import-untyped]  # in the test extras
from markupsafe import Markup
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import BuildError, Rule
from werkzeug.test import EnvironBuilder, TestResponse

from firehose_digest import Firehose, push, push_static, static_tag
from firehose_digest import static as static_module
from firehose_digest.collect import resource_key
from firehose_digest.static import IMMUTABLE, PRIVATE_IMMUTABLE, file_version
from tests.helpers import error_pages, run_in_threads, tag_responses_with_a_request_id

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

# Their clients navigate as browsers do: a 103 goes to a request that asks for a page.
pytestmark = pytest.mark.usefixtures("clients_ask_for_pages")


def version(content: bytes) -> str:
    return hashlib.blake2b(content, digest_size=5).hexdigest()


def test_a_version_is_ten_hex_digits_of_blake2b(tmp_path: Path) -> None:
    path = tmp_path / "site.css"
    path.write_bytes(b"body { color: red }\n")

    # As `printf "body { color: red }\\n" | b2sum -l 40` prints it.
    assert file_version(str(path)) == "43c0e95b06"


def get_file(client: FlaskClient, url: str, **kwargs: Any) -> TestResponse:
    """GET a static file and close the response (its file), keeping status and headers."""
    response = client.get(url, **kwargs)
    response.close()
    return response


def make_app(
    static: Path, *, before: Callable[[], str | None] | None = None, **config: Any
) -> Flask:
    """A site whose /push and /tag views push ``?f=`` with the keywords of ``?k=v`` pairs;
    ``before``, a ``before_request`` hook registered ahead of the extension's own."""
    app = Flask(__name__, static_folder=str(static))
    app.config.update(SECRET_KEY="static secret", **config)
    if before is not None:
        app.before_request(before)
    Firehose(app)

    def arguments() -> tuple[tuple[str, ...], dict[str, Any]]:
        flags = tuple(request.args.getlist("flag"))
        keywords: dict[str, Any] = {
            name: value for name, value in request.args.items() if name not in ("f", "flag")
        }
        if "_external" in keywords:  # url_for's switch, which takes True or False
            keywords["_external"] = keywords["_external"] == "1"
        return flags, keywords

    @app.route("/push")
    def pushes() -> str:
        flags, keywords = arguments()
        return push_static(request.args["f"], *flags, **keywords)

    @app.route("/tag")
    def tag() -> str:
        flags, keywords = arguments()
        return str(static_tag(request.args["f"], *flags, **keywords))

    return app


@pytest.fixture
def static(tmp_path: Path) -> Path:
    folder = tmp_path / "static"
    folder.mkdir()
    return folder


CONTENT = b"x" * 10

#: file name -> (the Link value after the url, the element with {url} for the url).
ROWS = {
    "site.css": ("rel=preload; as=style", '<link rel="stylesheet" href="{url}">'),
    "app.js": ("rel=preload; as=script", '<script src="{url}"></script>'),
    "app.mjs": ("rel=modulepreload", '<script type="module" src="{url}"></script>'),
    **{
        f"inter.{ext}": (
            f'rel=preload; as=font; type="font/{ext}"; crossorigin',
            f'<link rel="preload" href="{{url}}" as="font" type="font/{ext}" crossorigin>',
        )
        for ext in ("woff2", "woff", "ttf", "otf")
    },
    **{
        f"hero.{ext}": ("rel=preload; as=image", '<link rel="preload" href="{url}" as="image">')
        for ext in ("png", "jpg", "jpeg", "gif", "webp", "avif", "svg", "ico")
    },
    "data.json": (
        "rel=preload; as=fetch; crossorigin",
        '<link rel="preload" href="{url}" as="fetch" crossorigin>',
    ),
    "LOGO.PNG": ("rel=preload; as=image", '<link rel="preload" href="{url}" as="image">'),
}


@pytest.mark.parametrize(("filename", "expected"), ROWS.items(), ids=list(ROWS))
def test_each_extension_is_hinted_and_written_as_it_is_used(
    static: Path, filename: str, expected: tuple[str, str]
) -> None:
    (static / filename).write_bytes(CONTENT)
    client = make_app(static).test_client()
    url = f"/static/{filename}?v={version(CONTENT)}"
    params, element = expected

    pushed = client.get(f"/push?f={filename}")
    tagged = make_app(static).test_client().get(f"/tag?f={filename}")

    assert pushed.get_data(as_text=True) == url
    assert pushed.headers["Link"] == f"<{url}>; {params}"
    assert tagged.get_data(as_text=True) == element.format(url=url)
    assert tagged.headers["Link"] == f"<{url}>; {params}"


OVERRIDES = [
    # Found in Chromium (a stranger's browser hunt): each of these was fetched twice, or
    # broke the page.
    pytest.param(
        "inter.woff2",
        (),
        {"as_": "font"},
        "rel=preload; as=font; crossorigin",
        '<link rel="preload" href="{url}" as="font" crossorigin>',
        id="as_ font keeps crossorigin: a font is fetched in CORS mode",
    ),
    pytest.param(
        "inter.woff2",
        (),
        {"as_": "font", "crossorigin": None},
        "rel=preload; as=font",
        '<link rel="preload" href="{url}" as="font">',
        id="crossorigin=None with as_ font turns it off",
    ),
    pytest.param(
        "app.js",
        (),
        {"type": "module"},
        "rel=modulepreload",
        '<script type="module" src="{url}"></script>',
        id="type=module is a modulepreload and a module script",
    ),
    pytest.param(
        "app.js",
        (),
        {"defer": True},
        "rel=preload; as=script",
        '<script src="{url}" defer></script>',
        id="defer is the element's, not the Link's",
    ),
    pytest.param(
        "app.js",
        ("DEFER",),
        {"Async": True},
        "rel=preload; as=script",
        '<script src="{url}" async defer></script>',
        id="defer and async in any case",
    ),
    pytest.param(
        "site.css",
        (),
        {"as_": "Style"},
        "rel=preload; as=style",
        '<link rel="stylesheet" href="{url}">',
        id="as_ Style is a stylesheet",
    ),
    pytest.param(
        "app.js",
        (),
        {"rel": "ModulePreload"},
        "rel=modulepreload",
        '<script type="module" src="{url}"></script>',
        id="rel ModulePreload is a module script",
    ),
    pytest.param(
        "app.js",
        ("defer", "DEFER"),
        {"async": "async"},
        "rel=preload; as=script",
        '<script src="{url}" defer async></script>',
        id="defer twice is once, async as a keyword",
    ),
    pytest.param(
        "app.js",
        (),
        {"as_": "Script", "type": "Module"},
        "rel=modulepreload",
        '<script type="module" src="{url}"></script>',
        id="type=Module with as_ Script",
    ),
    pytest.param(
        "app.mjs",
        (),
        {"type": "module"},
        "rel=modulepreload",
        '<script type="module" src="{url}"></script>',
        id="a modulepreload takes no type",
    ),
    pytest.param(
        "app.js",
        ("async",),
        {"rel": "modulepreload"},
        "rel=modulepreload",
        '<script type="module" src="{url}" async></script>',
        id="async is the element's, a module's too",
    ),
    pytest.param(
        "site.css",
        (),
        {"as_": "fetch"},
        "rel=preload; as=fetch; crossorigin",
        '<link rel="preload" href="{url}" as="fetch" crossorigin>',
        id="as_ replaces the row",
    ),
    pytest.param(
        "inter.woff2",
        (),
        {"type": "application/font-woff2"},
        'rel=preload; as=font; type="application/font-woff2"; crossorigin',
        '<link rel="preload" href="{url}" as="font" type="application/font-woff2" crossorigin>',
        id="type",
    ),
    pytest.param(
        "inter.woff2",
        (),
        {"crossorigin": "use-credentials"},
        'rel=preload; as=font; crossorigin=use-credentials; type="font/woff2"',
        '<link rel="preload" href="{url}" as="font" type="font/woff2"'
        ' crossorigin="use-credentials">',
        id="crossorigin value",
    ),
    pytest.param(
        "site.css",
        ("crossorigin",),
        {},
        "rel=preload; as=style; crossorigin",
        '<link rel="stylesheet" href="{url}" crossorigin>',
        id="crossorigin flag",
    ),
    pytest.param(
        "app.js",
        (),
        {"rel": "modulepreload"},
        "rel=modulepreload",
        '<script type="module" src="{url}"></script>',
        id="rel",
    ),
    # A rel as HTML reads it, split on ASCII whitespace, as push() reads it: a lone
    # preload, a lone modulepreload (a template's attribute written over lines).
    pytest.param(
        "site.css",
        (),
        {"as_": "style", "rel": "preload\n"},
        "rel=preload; as=style",
        '<link rel="stylesheet" href="{url}">',
        id="rel preload over lines is a stylesheet",
    ),
    pytest.param(
        "app.js",
        (),
        {"rel": "\tModulePreload\r\n"},
        "rel=modulepreload",
        '<script type="module" src="{url}"></script>',
        id="rel modulepreload over lines is a module script",
    ),
    pytest.param(
        "app.js",
        (),
        {"as_": "script", "type": "module", "rel": " preload\f"},
        "rel=modulepreload",
        '<script type="module" src="{url}"></script>',
        id="rel preload spaced, type=module is a modulepreload",
    ),
    pytest.param(
        "data.json",
        (),
        {"rel": "prefetch\t\tpreload"},
        'rel="prefetch preload"; nopush',
        '<link rel="prefetch preload" href="{url}">',
        id="relations over a tab, one space apart",
    ),
    pytest.param(
        "data.json",
        (),
        {"rel": "prefetch"},
        "rel=prefetch",
        '<link rel="prefetch" href="{url}">',
        id="rel prefetch, which takes no as",
    ),
    pytest.param(
        "notes.txt",
        (),
        {"as_": "fetch"},
        "rel=preload; as=fetch; crossorigin",
        '<link rel="preload" href="{url}" as="fetch" crossorigin>',
        id="as_ for an unknown extension",
    ),
    pytest.param(
        "app.js",
        (),
        {"nonce": "r4nd0m", "integrity": "sha384-abc"},
        "rel=preload; as=script; nonce=r4nd0m; integrity=sha384-abc",
        '<script src="{url}" integrity="sha384-abc" nonce="r4nd0m"></script>',
        id="nonce and integrity mirrored",
    ),
    pytest.param(
        "inter.woff2",
        (),
        {"crossorigin": True},
        'rel=preload; as=font; type="font/woff2"; crossorigin',
        '<link rel="preload" href="{url}" as="font" type="font/woff2" crossorigin>',
        id="crossorigin=True is the flag, in the element too",
    ),
    pytest.param(
        "inter.woff2",
        ("crossorigin=use-credentials",),
        {},
        'rel=preload; as=font; crossorigin=use-credentials; type="font/woff2"',
        '<link rel="preload" href="{url}" as="font" type="font/woff2"'
        ' crossorigin="use-credentials">',
        id="positional crossorigin=value, in the element too",
    ),
    pytest.param(
        "inter.woff2",
        ("CROSSORIGIN=use-credentials",),
        {},
        'rel=preload; as=font; crossorigin=use-credentials; type="font/woff2"',
        '<link rel="preload" href="{url}" as="font" type="font/woff2"'
        ' crossorigin="use-credentials">',
        id="CROSSORIGIN=value in another case, in the element too",
    ),
    pytest.param(
        "inter.woff2",
        ("Crossorigin",),
        {},
        'rel=preload; as=font; type="font/woff2"; crossorigin',
        '<link rel="preload" href="{url}" as="font" type="font/woff2" crossorigin>',
        id="a Crossorigin flag in another case",
    ),
    pytest.param(
        "inter.woff2",
        (),
        {"crossorigin": None},
        'rel=preload; as=font; type="font/woff2"',
        '<link rel="preload" href="{url}" as="font" type="font/woff2">',
        id="crossorigin=None turns the row's crossorigin off",
    ),
    pytest.param(
        "inter.woff2",
        (),
        {"crossorigin": False},
        'rel=preload; as=font; type="font/woff2"',
        '<link rel="preload" href="{url}" as="font" type="font/woff2">',
        id="crossorigin=False turns the row's crossorigin off",
    ),
    pytest.param(
        "site.css",
        ("as=fetch",),
        {},
        "rel=preload; as=fetch; crossorigin",
        '<link rel="preload" href="{url}" as="fetch" crossorigin>',
        id="positional as=fetch replaces the row",
    ),
    pytest.param(
        "site.css",
        (),
        {"AS": "fetch"},
        "rel=preload; as=fetch; crossorigin",
        '<link rel="preload" href="{url}" as="fetch" crossorigin>',
        id="AS= replaces the row",
    ),
    pytest.param(
        "app.js",
        ("REL=modulepreload",),
        {},
        "rel=modulepreload",
        '<script type="module" src="{url}"></script>',
        id="positional REL=",
    ),
    pytest.param(
        "print.css",
        (),
        {"media": "print"},
        "rel=preload; as=style; media=print",
        '<link rel="stylesheet" href="{url}" media="print">',
        id="media mirrored",
    ),
    pytest.param(
        "hero.png",
        (),
        {"referrerpolicy": "no-referrer", "fetchpriority": "high"},
        "rel=preload; as=image; referrerpolicy=no-referrer; fetchpriority=high",
        '<link rel="preload" href="{url}" as="image" referrerpolicy="no-referrer"'
        ' fetchpriority="high">',
        id="referrerpolicy and fetchpriority mirrored",
    ),
    pytest.param(
        "hero.png",
        (),
        {"imagesrcset": "/static/hero-2x.png 2x", "imagesizes": "100vw"},
        'rel=preload; as=image; imagesrcset="/static/hero-2x.png 2x"; imagesizes=100vw',
        '<link rel="preload" href="{url}" as="image" imagesrcset="/static/hero-2x.png 2x"'
        ' imagesizes="100vw">',
        # Without them the element preloaded the url itself beside the header's candidate
        # (hero-2x.png on a 2x screen): two images fetched, one never used.
        id="imagesrcset and imagesizes mirrored on a preload",
    ),
    # A mirrored name given bare is bare on the element too, as crossorigin is: the Link
    # said it and the element did not.
    pytest.param(
        "print.css",
        (),
        {"media": True},
        "rel=preload; as=style; media",
        '<link rel="stylesheet" href="{url}" media>',
        id="media=True mirrored bare",
    ),
    pytest.param(
        "app.js",
        ("Integrity",),
        {},
        "rel=preload; as=script; Integrity",
        '<script src="{url}" integrity></script>',
        id="an Integrity flag mirrored bare",
    ),
    pytest.param(
        "hero.png",
        ("type", "imagesizes"),
        {},
        "rel=preload; as=image; type; imagesizes",
        '<link rel="preload" href="{url}" as="image" type imagesizes>',
        id="type and imagesizes flags mirrored bare on a preload",
    ),
]


@pytest.mark.parametrize(("filename", "flags", "keywords", "params", "element"), OVERRIDES)
def test_the_caller_overrides_what_the_extension_says(
    static: Path,
    filename: str,
    flags: tuple[str, ...],
    keywords: dict[str, Any],
    params: str,
    element: str,
) -> None:
    (static / filename).write_bytes(CONTENT)
    app = make_app(static)
    url = f"/static/{filename}?v={version(CONTENT)}"

    @app.route("/override")
    def override() -> str:
        return str(static_tag(filename, *flags, **keywords))

    response = app.test_client().get("/override")

    assert response.get_data(as_text=True) == element.format(url=url)
    assert response.headers["Link"] == f"<{url}>; {params}"


@pytest.mark.parametrize("rel", ["", " ", "\n", None, False])
@pytest.mark.parametrize("filename", ["site.css", "app.mjs", "hero.png"])
def test_an_empty_rel_is_no_rel_and_the_extension_s_row_is_written(
    static: Path, filename: str, rel: Any
) -> None:
    """A rel of no relations (a template variable's default ``""``) is none, as ``None``
    is and as ``push()`` reads it: the file is preloaded as its extension says. Taken for
    a rel given, it replaced the row: the stylesheet was linked ``rel=preload`` without
    its ``as`` and written ``<link rel="preload">``, never applied, the module never run;
    and so was it declared, and hinted, by ``hints_static``."""
    (static / filename).write_bytes(CONTENT)
    app = make_app(static, FIREHOSE_EARLY_HINTS=True)
    url = f"/static/{filename}?v={version(CONTENT)}"
    params, element = ROWS[filename]

    @app.route("/empty")
    @Firehose.hints_static(filename, rel=rel)
    def empty() -> str:
        page = "{{ static_tag(f, rel=rel) }} {{ push_static(f, rel=rel) }}"
        return render_template_string(page, f=filename, rel=rel)

    hinted, response = first_visit(app, "/empty")

    assert hinted == [f"<{url}>; {params}"]
    assert response.headers["Link"] == f"<{url}>; {params}"
    assert response.get_data(as_text=True) == f"{element.format(url=url)} {url}"


#: Ways to say a script is a legacy bundle: a flag in any case, a keyword of any value.
NOMODULE_SPELLINGS = [
    pytest.param(("nomodule",), {}, id="flag"),
    pytest.param(("NoModule",), {}, id="flag in another case"),
    pytest.param((), {"NoModule": True}, id="NoModule=True"),
    pytest.param((), {"nomodule": ""}, id='nomodule=""'),
    pytest.param(("nomodule=",), {}, id='positional "nomodule="'),
]


@pytest.mark.parametrize(("flags", "keywords"), NOMODULE_SPELLINGS)
def test_a_nomodule_script_is_its_element_alone(
    static: Path, flags: tuple[str, ...], keywords: dict[str, Any]
) -> None:
    """The element keeps ``nomodule`` (without it a browser that runs modules ran the
    legacy bundle too); the ``Link`` names nothing of it: every browser that runs modules
    skips the script, and the few that run it preload nothing (test_extension.py)."""
    (static / "legacy.js").write_bytes(CONTENT)
    app = make_app(static)
    url = f"/static/legacy.js?v={version(CONTENT)}"

    @app.route("/legacy")
    def legacy() -> str:
        tag = static_tag("legacy.js", *flags, "defer", **keywords)
        return f"{tag}\n{push_static('legacy.js', *flags, **keywords)}"

    response = app.test_client().get("/legacy")

    element = f'<script src="{url}" nomodule defer></script>'
    assert response.get_data(as_text=True) == f"{element}\n{url}"
    assert "Link" not in response.headers


@pytest.mark.parametrize("filename", ["app.mjs", "site.css", "inter.woff2"])
@pytest.mark.parametrize(("flags", "keywords"), NOMODULE_SPELLINGS)
def test_nomodule_on_an_element_other_than_a_classic_script_is_refused(
    static: Path, filename: str, flags: tuple[str, ...], keywords: dict[str, Any]
) -> None:
    """A module script runs in every browser that runs modules, nomodule or not (HTML
    Standard), and a ``<link>`` takes none: the element was written without it, and the
    file linked for no browser or for all."""
    (static / filename).write_bytes(CONTENT)
    app = make_app(static)

    refused = pytest.raises(ValueError, match=r"^static_tag\(\): nomodule .*classic script")
    with app.test_request_context(), refused:
        static_tag(filename, *flags, **keywords)


#: Ways to give a script a ``media``: a value, bare, as a flag of either form, in any case.
MEDIA_SPELLINGS = [
    pytest.param((), {"media": "print"}, id="media='print'"),
    pytest.param((), {"media": True}, id="media=True"),
    pytest.param(("Media=print",), {}, id='positional "Media=print"'),
    pytest.param(("MEDIA",), {}, id='bare "MEDIA"'),
]


@pytest.mark.parametrize(
    ("filename", "tag_keywords", "element"),
    [
        pytest.param("app.js", {}, "<script>", id="a classic script"),
        pytest.param("app.mjs", {}, '<script type="module">', id="a .mjs module"),
        pytest.param("app.js", {"type": "module"}, '<script type="module">', id="type=module"),
    ],
)
@pytest.mark.parametrize(("flags", "keywords"), MEDIA_SPELLINGS)
def test_a_media_on_a_script_is_refused(
    static: Path,
    filename: str,
    tag_keywords: dict[str, Any],
    element: str,
    flags: tuple[str, ...],
    keywords: dict[str, Any],
) -> None:
    """HTML has no ``media`` on ``<script>``: the script runs on every medium, and its
    element was written ``<script media="print">``, as if it ran for print alone, with a
    preload that fetched it for print alone. ``static_tag`` says so, before it pushes
    anything, as it refuses a media list there; ``push_static`` still writes the ``Link``
    (a preload honours ``media``)."""
    (static / filename).write_bytes(CONTENT)
    app = make_app(static)
    url = f"/static/{filename}?v={version(CONTENT)}"

    @app.route("/script-tag")
    def tagged() -> str:
        with pytest.raises(ValueError) as raised:
            static_tag(filename, *flags, **tag_keywords, **keywords)
        return str(raised.value)

    @app.route("/script-push")
    def pushed() -> str:
        return push_static(filename, *flags, **tag_keywords, **keywords)

    refused = app.test_client().get("/script-tag")
    assert refused.get_data(as_text=True).startswith(
        f"static_tag(): a {element} takes no media (HTML has none: it runs on every medium)"
    )
    assert "Link" not in refused.headers
    linked = app.test_client().get("/script-push")
    assert linked.get_data(as_text=True) == url
    assert re.search(r"; media(=print)?(;|$)", linked.headers["Link"], re.IGNORECASE)


#: A value no ``Link`` carries whole (a ``,`` or ``;``, at which nginx and h2o end the link
#: even within quotes) on an element that takes it: (file, keywords, the element).
ELEMENT_ALONE = [
    pytest.param(
        "hero.png",
        {"imagesrcset": "/static/a.png 1x, /static/a-2x.png 2x"},
        '<link rel="preload" href="{url}" as="image"'
        ' imagesrcset="/static/a.png 1x, /static/a-2x.png 2x">',
        id="an image's imagesrcset of two candidates",
    ),
    pytest.param(
        "hero.png",
        {"imagesrcset": "/static/a-400.png 400w", "imagesizes": "(max-width: 600px) 100vw, 50vw"},
        '<link rel="preload" href="{url}" as="image" imagesrcset="/static/a-400.png 400w"'
        ' imagesizes="(max-width: 600px) 100vw, 50vw">',
        id="an image's imagesizes of two sizes, with the imagesrcset the Link would carry",
    ),
    pytest.param(
        "hero.png",
        {"media": "screen, print"},
        '<link rel="preload" href="{url}" as="image" media="screen, print">',
        id="an image's media list",
    ),
    pytest.param(
        "site.css",
        {"media": "screen, print", "title": "Print"},
        '<link rel="stylesheet" href="{url}" media="screen, print" title="Print">',
        id="a stylesheet's media list, beside an attribute of the element alone",
    ),
    pytest.param(
        "inter.woff2",
        {"media": "(width < 600px), print"},
        '<link rel="preload" href="{url}" as="font" type="font/woff2" crossorigin'
        ' media="(width &lt; 600px), print">',
        id="a font's media list, escaped",
    ),
    pytest.param(
        "inter.woff2",
        {"imagesrcset": "/static/a.png 1x, /static/b.png 2x", "imagesizes": "1px, 2px"},
        '<link rel="preload" href="{url}" as="font" type="font/woff2"'
        ' imagesrcset="/static/a.png 1x, /static/b.png 2x" imagesizes="1px, 2px" crossorigin>',
        id="a font preload's imagesrcset and imagesizes, written as a preload writes them",
    ),
    pytest.param(
        "hero.png",
        {"imagesrcset": "/static/a.png?w=1&h=2 1x, /static/a;2x.png 2x"},
        '<link rel="preload" href="{url}" as="image"'
        ' imagesrcset="/static/a.png?w=1&amp;h=2 1x, /static/a;2x.png 2x">',
        id="an imagesrcset holding a ';', escaped",
    ),
    pytest.param(
        "hero.png",
        {"imagesrcset": "/static/a;1.png 1x"},
        '<link rel="preload" href="{url}" as="image" imagesrcset="/static/a;1.png 1x">',
        id="a ';' alone",
    ),
]


@pytest.mark.parametrize(("filename", "keywords", "element"), ELEMENT_ALONE)
def test_a_value_no_link_carries_is_written_on_the_element_alone(
    static: Path, filename: str, keywords: dict[str, Any], element: str
) -> None:
    """A responsive image's preload (``imagesrcset="a.png 1x, a-2x.png 2x"``), a media list:
    ``static_tag`` raised push()'s ``ValueError`` ("preload the file from the page, with a
    ``<link rel="preload">`` element"), the very element it writes, and a template had
    no way to write it with the helper. The element carries the value; no ``Link`` names
    the file, as for a ``nomodule`` script: the page's other links are as they were, the
    client's record and a later 103 hold nothing of it."""
    (static / filename).write_bytes(CONTENT)
    (static / "app.js").write_bytes(CONTENT)
    app = make_app(static, FIREHOSE_EARLY_HINTS=True)
    url = f"/static/{filename}?v={version(CONTENT)}"
    other = f"</static/app.js?v={version(CONTENT)}>; rel=preload; as=script"

    @app.route("/alone")
    def alone() -> str:
        return f"{static_tag(filename, **keywords)}\n{static_tag('app.js')}"

    client = app.test_client()
    sent: list[Any] = []
    first = client.get("/alone", environ_base={"wsgi.early_hints": sent.append})
    again = client.get("/alone")

    app_js = f'<script src="/static/app.js?v={version(CONTENT)}"></script>'
    assert first.get_data(as_text=True) == f"{element.format(url=url)}\n{app_js}"
    assert first.headers.getlist("Link") == [other]
    assert again.headers.getlist("Link") == [f"{other}; nopush"]  # the other one recorded
    assert sent == []
    assert first_visit(app, "/alone")[0] == [other]  # learned: the other link alone


@pytest.mark.parametrize(
    ("filename", "keywords", "element"),
    [
        pytest.param("site.css", {"imagesrcset": "/a.png 1x, /b.png 2x"}, "<link", id="css"),
        pytest.param("site.css", {"imagesizes": "1px, 2px"}, "<link", id="css imagesizes"),
        pytest.param("app.js", {"imagesrcset": "/a.png 1x, /b.png 2x"}, "<script>", id="js"),
        pytest.param(
            "app.mjs", {"imagesizes": "1px, 2px"}, '<script type="module">', id="a module"
        ),
        pytest.param("site.css", {"type": "text/css; charset=utf-8"}, "<link", id="css type"),
        pytest.param("app.js", {"media": "a, b"}, "<script> takes no media", id="js media"),
        pytest.param("app.mjs", {"media": "a, b"}, 'module">', id="module media"),
        pytest.param(
            "inter.woff2", {"nopush": "a, b"}, '<link rel="preload">', id="a preload's nopush"
        ),
    ],
)
def test_a_value_no_link_carries_that_the_element_does_not_take_is_refused(
    static: Path, filename: str, keywords: dict[str, Any], element: str
) -> None:
    """Written on neither, the value would be dropped without a word, and the file's
    ``Link`` with it: ``static_tag`` says which element takes none."""
    (static / filename).write_bytes(CONTENT)
    app = make_app(static)
    ((name, value),) = keywords.items()

    with app.test_request_context(), pytest.raises(ValueError) as raised:
        static_tag(filename, **keywords)
    assert str(raised.value).startswith(f"static_tag(): {name} {value!r} holds a ',' or ';'")
    assert f"{element}" in str(raised.value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param('screen, "print"', "holds a '\"'", id="a quote"),
        pytest.param("screen,\rprint", "holds a character a header cannot", id="CR"),
        pytest.param("(width < 60em), print", None, id="none: a baseline"),
    ],
)
def test_a_value_no_link_carries_is_still_checked_as_push_checks_it(
    static: Path, value: str, message: str | None
) -> None:
    """Only the ``,`` and ``;`` are the element's to carry: a ``"``, a control or a
    non-ASCII character is refused as ``push()`` refuses it."""
    (static / "hero.png").write_bytes(CONTENT)
    app = make_app(static)

    with app.test_request_context():
        if message is None:
            assert "media=" in static_tag("hero.png", media=value)
        else:
            with pytest.raises(ValueError, match=f"^Link parameter 'media' {message}"):
                static_tag("hero.png", media=value)
        with pytest.raises(ValueError, match=r"^Link parameter 'imagesrcset' .*character"):
            static_tag("hero.png", imagesrcset="/héro.png 1x, /héro-2x.png 2x")
        with pytest.raises(ValueError, match=r"^Link parameter 'referrerpolicy' holds a '\"'"):
            static_tag("hero.png", media="screen, print", referrerpolicy='no"referrer')


@pytest.mark.parametrize("keywords", [{"imagesrcset": "/a.png 1x, /b.png 2x"}, {"media": "a;b"}])
def test_what_writes_only_a_header_still_refuses_a_value_no_link_carries(
    static: Path, keywords: dict[str, Any]
) -> None:
    """``push()``, ``push_static()``, ``Firehose.hints`` and ``hints_static`` write no element:
    their refusal, and what it says to do, stands."""
    (static / "hero.png").write_bytes(CONTENT)
    app = make_app(static)
    refused = "holds a ',' or ';', which push proxies read as the end of the link"

    with app.test_request_context():
        for write in (
            lambda: push("/hero.png", as_="image", **keywords),
            lambda: push_static("hero.png", **keywords),
            lambda: Firehose.hints("/hero.png", as_="image", **keywords),
            lambda: Firehose.hints_static("hero.png", **keywords),
        ):
            with pytest.raises(ValueError, match=refused):
                write()


def test_a_value_no_link_carries_is_logged_at_debug(
    static: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A user wondering where the file's ``Link`` went finds why in the log."""
    (static / "hero.png").write_bytes(CONTENT)
    app = make_app(static)

    with caplog.at_level(logging.DEBUG, logger="firehose_digest"), app.test_request_context():
        static_tag("hero.png", imagesrcset="/a.png 1x, /b.png 2x", media="screen, print")

    said = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert said == [
        (
            logging.DEBUG,
            f"firehose: /static/hero.png?v={version(CONTENT)} has a ',' or ';' in imagesrcset and "
            "media, which no Link carries whole: written on its element alone, static_tag "
            "links, pushes, hints and records none of it",
        )
    ]


def test_a_value_no_link_carries_is_logged_with_its_url_as_a_log_line_can_show_it(
    static: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The file's name may be made of a request's text (a tenant's logo): its url goes
    into that DEBUG line through ``for_log``, as a WARNING's client text does, cut to 200
    characters."""
    name = "h" * 240 + ".png"
    (static / name).write_bytes(CONTENT)
    app = make_app(static)

    with caplog.at_level(logging.DEBUG, logger="firehose_digest"), app.test_request_context():
        static_tag(name, media="screen, print")

    [said] = [r.getMessage() for r in caplog.records]
    assert said.startswith(f"firehose: /static/{'h' * 192}... has a ',' or ';' in media"), said


#: Attributes of the element alone: (file, keywords, the element, the Link after the url).
ELEMENT_ATTRIBUTES = [
    pytest.param(
        "site.css",
        {"data-Ä": "1", "İd": "x", "Data-K": "2", "LANG": "en"},
        '<link rel="stylesheet" href="{url}" data-Ä="1" İd="x" data-k="2" lang="en">',
        "rel=preload; as=style",
        id="named in ASCII upper case, lowered as HTML lowers it: in ASCII alone",
    ),
    pytest.param(
        "site.css",
        {"id": "main", "class": "theme", "title": "Dark", "blocking": "render"},
        '<link rel="stylesheet" href="{url}" id="main" class="theme" title="Dark"'
        ' blocking="render">',
        "rel=preload; as=style",
        id="a stylesheet's",
    ),
    pytest.param(
        "app.js",
        {"blocking": "render", "charset": "utf-8", "id": "app", "defer": True},
        '<script src="{url}" defer blocking="render" charset="utf-8" id="app"></script>',
        "rel=preload; as=script",
        id="a classic script's",
    ),
    pytest.param(
        "app.mjs",
        {"class": "boot", "blocking": "render"},
        '<script type="module" src="{url}" class="boot" blocking="render"></script>',
        "rel=modulepreload",
        id="a module's",
    ),
    pytest.param(
        "inter.woff2",
        {"title": "Inter", "ID": "font"},
        '<link rel="preload" href="{url}" as="font" type="font/woff2" crossorigin'
        ' title="Inter" id="font">',
        'rel=preload; as=font; type="font/woff2"; crossorigin',
        id="a preload's, named in another case",
    ),
    pytest.param(
        "site.css",
        {"title": 'Dark, "high" contrast \u2014 \xe9'},
        '<link rel="stylesheet" href="{url}" title="Dark, &#34;high&#34; contrast \u2014 \xe9">',
        "rel=preload; as=style",
        # A Link value cannot hold it (push() refuses ",", '"' and non-ASCII); an
        # attribute holds it escaped.
        id="a title a Link value cannot hold",
    ),
    pytest.param(
        "site.css",
        {"title": Markup("a&#34; onload=&#34;alert(1)")},
        '<link rel="stylesheet" href="{url}" title="a&#34; onload=&#34;alert(1)">',
        "rel=preload; as=style",
        id="markup read as the page reads it, escaped again",
    ),
    pytest.param(
        "site.css",
        {"data-turbo-track": "reload"},
        '<link rel="stylesheet" href="{url}" data-turbo-track="reload">',
        "rel=preload; as=style",
        # Hotwire Turbo reloads the page when a tracked asset's url changes: untracked,
        # a deploy's new stylesheet was never loaded.
        id="Turbo's data-turbo-track",
    ),
    pytest.param(
        "app.js",
        {"defer": True, "data-domain": "example.com"},
        '<script src="{url}" defer data-domain="example.com"></script>',
        "rel=preload; as=script",
        # Plausible's script reads the site it counts from its own element.
        id="Plausible's data-domain",
    ),
    pytest.param(
        "site.css",
        {"disabled": True, "lang": "en"},
        '<link rel="stylesheet" href="{url}" disabled lang="en">',
        "rel=preload; as=style",
        id="a flag and a global attribute",
    ),
    pytest.param(
        "inter.woff2",
        {"blocking": "render"},
        '<link rel="preload" href="{url}" as="font" type="font/woff2" crossorigin'
        ' blocking="render">',
        'rel=preload; as=font; type="font/woff2"; crossorigin',
        id="blocking on a preload, which ignores it",
    ),
    pytest.param(
        "app.mjs",
        {"charset": "utf-8"},
        '<script type="module" src="{url}" charset="utf-8"></script>',
        "rel=modulepreload",
        id="charset on a module, which ignores it",
    ),
    pytest.param(
        "site.css",
        {"defer": True},
        '<link rel="stylesheet" href="{url}" defer>',
        "rel=preload; as=style",
        id="defer on a stylesheet, which ignores it",
    ),
    pytest.param(
        "hero.png",
        {"async": True},
        '<link rel="preload" href="{url}" as="image" async>',
        "rel=preload; as=image",
        id="async on a preload, which ignores it",
    ),
    pytest.param(
        "hero.png",
        {"nopush": True, "fetchpriority": "high", "alt": ""},
        '<link rel="preload" href="{url}" as="image" alt fetchpriority="high">',
        "rel=preload; as=image; fetchpriority=high; nopush",
        # nopush is the Link's, to a push proxy; "" is written bare, as the page reads it.
        id="the Link's nopush, an empty value",
    ),
]


@pytest.mark.parametrize(("filename", "keywords", "element", "params"), ELEMENT_ATTRIBUTES)
def test_attributes_of_the_element_alone_are_written_on_it_and_not_in_the_link(
    static: Path, filename: str, keywords: dict[str, Any], element: str, params: str
) -> None:
    """Every attribute but those a preload reads (and the ``Link``'s ``nopush``) is the
    element's, as if written by hand: the element was written without them (a stylesheet
    left out of its titled set, a ``data-`` attribute a script reads from its element
    missing), and the ``Link`` had them, which Chromium reads as a link to drop from a
    103 (a title with a comma a ``ValueError``). One the element ignores is written as
    given, as a browser reads such a page: it failed the page with a ``ValueError``."""
    (static / filename).write_bytes(CONTENT)
    app = make_app(static)
    url = f"/static/{filename}?v={version(CONTENT)}"

    @app.route("/element")
    def element_view() -> str:
        return str(static_tag(filename, **keywords))

    response = app.test_client().get("/element")

    assert response.get_data(as_text=True) == element.format(url=url)
    assert response.headers["Link"] == f"<{url}>; {params}"


def test_a_script_type_that_makes_a_data_block_is_refused_naming_it(static: Path) -> None:
    """A ``<script type="text/x-template">`` was written as a plain ``<script>``, which ran
    the template as JavaScript."""
    (static / "t.js").write_bytes(CONTENT)
    app = make_app(static)

    refused = pytest.raises(ValueError, match=r"^static_tag\(\): type 'text/x-template'")
    with app.test_request_context(), refused:
        static_tag("t.js", type="text/x-template")


@pytest.mark.parametrize(
    ("flags", "keywords", "named"),
    [
        pytest.param((), {'x"><script>alert(1)</script': "1"}, "'x\"><script>", id="keyword"),
        pytest.param(("a b",), {}, "'a b'", id="flag"),
        pytest.param((" ",), {}, "' ' is no attribute name", id="a flag of a space"),
        pytest.param(
            (Markup("&#32;"),), {}, "' ' is no attribute name", id="a markup flag of a space"
        ),
        pytest.param((), {"x/": True}, "'x/'", id="keyword flag"),
        pytest.param((), {"data-x": ["a"]}, "data-x", id="a value that is not a str"),
        pytest.param((["defer"],), {}, "a flag must be a str, got ['defer']", id="a list flag"),
        pytest.param((5,), {}, "a flag must be a str, got 5", id="a number flag"),
    ],
)
def test_an_attribute_the_element_cannot_hold_is_refused_naming_it(
    static: Path, flags: tuple[str, ...], keywords: dict[str, Any], named: str
) -> None:
    """A name that would end the attribute or the tag, as the HTML syntax reads it: written
    on the element, it would write whatever HTML it holds. A flag or a value that is not a
    str (a template's number or list) is named too, not left to fail on a str method."""
    (static / "app.js").write_bytes(CONTENT)
    app = make_app(static)

    with app.test_request_context(), pytest.raises(ValueError, match=re.escape(named)):
        static_tag("app.js", *flags, **keywords)


@pytest.mark.parametrize("flag", ["crossorigin ", "\tcrossorigin", " crossorigin\t"])
def test_a_flag_loses_the_spaces_and_tabs_around_it_in_the_element_and_the_link(
    static: Path, flag: str
) -> None:
    """A bare flag is read as ``push()`` reads one: ``"crossorigin "`` was refused as no
    attribute name; the element and its preload both name ``crossorigin``, so the
    browser can use the preload for the element."""
    (static / "app.js").write_bytes(CONTENT)
    app = make_app(static)
    url = f"/static/app.js?v={version(CONTENT)}"

    @app.route("/element")
    def element_view() -> str:
        return str(static_tag("app.js", flag))

    response = app.test_client().get("/element")

    assert response.get_data(as_text=True) == f'<script src="{url}" crossorigin></script>'
    assert response.headers["Link"] == f"<{url}>; rel=preload; as=script; crossorigin"


@pytest.mark.parametrize(
    "flags", [("data-k=1", "data-\u212a=2"), ("data-\u212a=2", "data-k=1")], ids=["k", "\u212a"]
)
def test_attributes_the_same_only_outside_ascii_case_are_both_written(
    static: Path, flags: tuple[str, ...]
) -> None:
    """HTML lowers an attribute's name in ASCII alone: ``data-\u212a`` (KELVIN SIGN), which
    ``str.lower()`` makes ``data-k``, is another attribute, and the element carries both,
    in the order given. One was dropped as the other given twice."""
    (static / "app.js").write_bytes(CONTENT)
    app = make_app(static)
    url = f"/static/app.js?v={version(CONTENT)}"
    attributes = "".join(' {}="{}"'.format(*flag.split("=")) for flag in flags)

    with app.test_request_context():
        assert str(static_tag("app.js", *flags)) == f'<script src="{url}"{attributes}></script>'


def test_a_keyword_named_as_html_is_read_as_the_page_reads_it(static: Path) -> None:
    """A keyword's name given as ``Markup`` (a template's ``**`` of a dict made of macro
    output) is read as a flag's name given so is: ``static_tag()`` wrote its source on the
    element (``cross&#111;rigin="use-credentials"``, ``&#32;``: attributes no page reads
    as meant) while ``push()`` refused the same as no token."""
    (static / "app.js").write_bytes(CONTENT)
    app = make_app(static)
    url = f"/static/app.js?v={version(CONTENT)}"

    # As a template's ** passes them: names of any type, unchecked.
    crossorigin: dict[Any, Any] = {Markup("cross&#111;rigin"): "use-credentials"}

    @app.route("/element")
    def element_view() -> str:
        return str(static_tag("app.js", **crossorigin))

    response = app.test_client().get("/element")

    assert response.get_data(as_text=True) == (
        f'<script src="{url}" crossorigin="use-credentials"></script>'
    )
    assert response.headers["Link"] == (
        f"<{url}>; rel=preload; as=script; crossorigin=use-credentials"
    )
    title: dict[Any, Any] = {Markup("ti&#116;le"): "a"}
    with app.test_request_context():
        assert push("/a.css", as_="style", **title) == "/a.css"
        for value in (True, "a"):
            space: dict[Any, Any] = {Markup("&#32;"): value}
            with pytest.raises(ValueError, match="no attribute name"):
                static_tag("app.js", **space)
            with pytest.raises(ValueError, match=re.escape("token, got ' '")):
                push("/a.css", **space)


@pytest.mark.parametrize(
    ("flags", "element", "link"),
    [
        (("crossorigin", "crossorigin"), " crossorigin", "; crossorigin"),
        (("crossorigin", "crossorigin=use-credentials"), " crossorigin", "; crossorigin"),
        (
            ("crossorigin=use-credentials", "crossorigin"),
            ' crossorigin="use-credentials"',
            "; crossorigin=use-credentials",
        ),
    ],
    ids=["a flag twice", "bare, then with a value", "with a value, then bare"],
)
def test_a_name_given_twice_is_the_first_spelling_in_the_element_and_the_link(
    static: Path, flags: tuple[str, ...], element: str, link: str
) -> None:
    """One rule for a name given twice, as ``push()`` has (RFC 8288 §3's names are
    case-insensitive; an HTML parser keeps an element's first attribute): the first
    spelling. The link wrote a flag given twice twice, and of ``"crossorigin",
    "crossorigin=use-credentials"`` both kept the value, where ``push()`` keeps the first."""
    (static / "app.js").write_bytes(CONTENT)
    app = make_app(static)
    url = f"/static/app.js?v={version(CONTENT)}"

    @app.route("/element")
    def element_view() -> str:
        return str(static_tag("app.js", *flags))

    response = app.test_client().get("/element")

    assert response.get_data(as_text=True) == f'<script src="{url}"{element}></script>'
    assert response.headers["Link"] == f"<{url}>; rel=preload; as=script{link}"


@pytest.mark.parametrize(
    ("filename", "flags", "keywords", "named"),
    [
        pytest.param("app.js", (), {"src": "/cdn/app.js"}, "src", id="a script's src"),
        pytest.param("app.js", (), {"SRC": "/cdn/app.js"}, "src", id="SRC, in another case"),
        pytest.param("app.js", ("src",), {}, "src", id="src as a flag"),
        pytest.param("app.mjs", (), {"src": "/cdn/app.mjs"}, "src", id="a module's src"),
        pytest.param("site.css", (), {"href": "/cdn/site.css"}, "href", id="a stylesheet's"),
        pytest.param("inter.woff2", (), {"Href": "/f.woff2"}, "href", id="a preload's Href"),
        pytest.param("site.css", ("href=/cdn/site.css",), {}, "href", id='positional "href="'),
    ],
)
def test_the_url_attribute_the_element_writes_itself_is_refused_naming_it(
    static: Path, filename: str, flags: tuple[str, ...], keywords: dict[str, Any], named: str
) -> None:
    """The element names the file's versioned url in its own ``src`` or ``href``: a second
    one was written after it (``<script src="/static/app.js?v=..." src="/cdn/app.js">``),
    which the HTML parser drops as a duplicate, so the url the caller gave was silently
    never used."""
    (static / filename).write_bytes(CONTENT)
    app = make_app(static)

    refused = pytest.raises(
        ValueError, match=rf"^static_tag\(\): {named} is the file's url, which static_tag"
    )
    with app.test_request_context(), refused:
        static_tag(filename, *flags, **keywords)


@pytest.mark.parametrize(
    ("filename", "keywords", "element"),
    [
        pytest.param(
            "site.css",
            {"src": "x"},
            '<link rel="stylesheet" href="{url}" src="x">',
            id="src on a link, which ignores it",
        ),
        pytest.param(
            "app.js",
            {"href": "x"},
            '<script src="{url}" href="x"></script>',
            id="href on a script, which ignores it",
        ),
        pytest.param("app.js", {"src": None}, '<script src="{url}"></script>', id="src=None"),
    ],
)
def test_a_url_attribute_the_element_does_not_write_is_written_as_given(
    static: Path, filename: str, keywords: dict[str, Any], element: str
) -> None:
    """Only the element's own url attribute is refused: another is the element's alone, as
    any attribute it ignores is, and ``None`` leaves it out, as for any keyword."""
    (static / filename).write_bytes(CONTENT)
    app = make_app(static)
    url = f"/static/{filename}?v={version(CONTENT)}"

    with app.test_request_context():
        assert static_tag(filename, **keywords) == element.format(url=url)


#: url_for's own keywords, as a Flask user passes them to url_for("static", ...).
URL_FOR_KEYWORDS = [
    pytest.param({"_external": True}, id="_external"),
    pytest.param({"_external": True, "_scheme": "https"}, id="_scheme"),
    pytest.param({"_scheme": "https"}, id="_scheme alone"),
    pytest.param({"_anchor": "top"}, id="_anchor"),
    pytest.param({"_method": "GET"}, id="_method"),
    pytest.param({"_external": False}, id="_external=False"),
]


@pytest.mark.parametrize("keywords", URL_FOR_KEYWORDS)
def test_url_for_s_own_keywords_mean_what_they_mean_to_url_for(
    static: Path, keywords: dict[str, Any]
) -> None:
    """``push_static("site.css", _external=True)`` is ``url_for("static", ..., v=...,
    _external=True)``, linked so: the keyword was written into the ``Link`` header as a
    parameter (``; _external``) and the url stayed relative."""
    (static / "site.css").write_bytes(CONTENT)
    (static / "app.js").write_bytes(CONTENT)
    app = make_app(static)

    @app.route("/both")
    def both() -> str:
        return f"{push_static('site.css', **keywords)}\n{static_tag('app.js', **keywords)}"

    with app.test_request_context():
        css, js = (
            url_for("static", filename=name, v=version(CONTENT), **keywords)
            for name in ("site.css", "app.js")
        )
    response = app.test_client().get("/both")

    assert response.get_data(as_text=True) == f'{css}\n<script src="{js}"></script>'
    # As push() links those urls: an absolute one, or one with a fragment, is preloaded
    # but marked nopush, as no proxy pushes it at the path the browser asks for.
    links = [link.split(">; ", 1) for link in response.headers["Link"].split(", ")]
    assert [(url, params.replace("; nopush", "")) for url, params in links] == [
        (f"<{css}", "rel=preload; as=style"),
        (f"<{js}", "rel=preload; as=script"),
    ]


@pytest.mark.parametrize(
    ("keyword", "value", "said"),
    [
        ("_anchor", 1, "_anchor must be a str, got 1"),
        ("_anchor", True, "_anchor must be a str, got True"),
        ("_anchor", ["top"], "_anchor must be a str, got ['top']"),
        ("_scheme", ["https"], "_scheme must be a str, got ['https']"),
        ("_scheme", 1, "_scheme must be a str, got 1"),
        ("_method", ("GET",), "_method must be a str, got ('GET',)"),
        ("_external", "false", "_external must be True or False, got 'false'"),
        ("_external", 1, "_external must be True or False, got 1"),
    ],
)
def test_a_url_for_keyword_of_the_wrong_type_is_refused_naming_it(
    static: Path, keyword: str, value: object, said: str
) -> None:
    """An ``_anchor`` not a str failed deep in url_for's quoting (``quote_from_bytes()
    expected bytes``), a list as ``_scheme`` or ``_method`` as unhashable, and each in
    every request of a view that declared it with hints_static (a 500); a str as
    ``_external`` was read as true ("false" too), any ``_scheme`` but "https" as "http".
    Each is refused at the call, naming the keyword, hints_static's at the declaration."""
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static)
    keywords: dict[str, Any] = {keyword: value}
    with app.test_request_context():
        for call in (push_static, static_tag):
            with pytest.raises(ValueError) as refused:
                call("site.css", **keywords)
            assert str(refused.value) == f"{call.__name__}()'s {said}"
    with pytest.raises(ValueError) as refused:
        Firehose.hints_static("site.css", **keywords)
    assert str(refused.value) == f"hints_static()'s {said}"


def test_a_scheme_with_external_false_is_refused_at_the_call(static: Path) -> None:
    """url_for refuses a ``_scheme`` with ``_external=False`` whatever the app and the
    request ("When specifying '_scheme', '_external' must be True."): hints_static took
    the declaration, and each app's first request of the view logged it and left the link
    out. Refused at the call, naming it, hints_static's at the declaration."""
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static)
    said = "()'s _scheme makes an absolute url: give _external=True or leave it out, got False"
    with app.test_request_context():
        for call in (push_static, static_tag):
            with pytest.raises(ValueError) as refused:
                call("site.css", _scheme="https", _external=False)
            assert str(refused.value) == f"{call.__name__}{said}"
    with pytest.raises(ValueError) as refused:
        Firehose.hints_static("site.css", _scheme="https", _external=False)
    assert str(refused.value) == f"hints_static{said}"


def test_a_method_the_static_view_does_not_answer_fails_as_url_for_fails(static: Path) -> None:
    """It was written into the ``Link`` header (``; _method=POST``), and the url linked."""
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static)

    with app.test_request_context():
        with pytest.raises(BuildError):
            push_static("site.css", _method="POST")
        with pytest.raises(BuildError):
            static_tag("site.css", _method="POST")


def localized_app(static: Path, url_prefix: str) -> Flask:
    """An app set up whose ``localized`` blueprint serves ``static``'s ``site.css`` under
    ``url_prefix`` (``"/<lang_code>"``)."""
    (static / "site.css").write_bytes(CONTENT)
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "static secret"
    localized = Blueprint("localized", __name__, static_folder=str(static), url_prefix=url_prefix)
    app.register_blueprint(localized)
    Firehose(app)
    return app


@pytest.mark.parametrize("call", [push_static, static_tag])
def test_a_url_value_given_as_a_keyword_is_said_to_be_a_link_parameter(
    static: Path, call: Callable[..., str]
) -> None:
    """A blueprint's static folder under ``url_prefix="/<lang_code>"``: ``lang_code="de"``
    is a ``Link`` parameter to ``push_static``, as every keyword not ``url_for``'s own is,
    and url_for's BuildError said "Did you forget to specify values ['lang_code']?" of a
    value the call gave. The error says where the url's values come from instead."""
    app = localized_app(static, "/<lang_code>")

    with (
        app.test_request_context("/de/"),
        pytest.raises(ValueError, match=r"'lang_code'.*url_defaults") as raised,
    ):
        call("site.css", endpoint="localized.static", lang_code="de")
    assert str(raised.value).startswith(f"{call.__name__}(): ")
    assert isinstance(raised.value.__cause__, BuildError)


def test_two_url_values_given_as_keywords_are_said_to_be_link_parameters(static: Path) -> None:
    """Under ``url_prefix="/<lang_code>/<region>"``, both given: the error names both, in
    the plural throughout ("not a url value" was said of two)."""
    app = localized_app(static, "/<lang_code>/<region>")

    with app.test_request_context("/de/ch/"), pytest.raises(ValueError) as raised:
        push_static("site.css", endpoint="localized.static", lang_code="de", region="ch")
    assert str(raised.value) == (
        "push_static(): 'lang_code', 'region' are Link parameters here, not url values "
        "(url_for is given only the file name and its own _keywords): fill the url's "
        "values with a url_defaults function (Flask's URL processors)"
    )


def test_a_static_folder_with_no_route_leaves_url_for_s_error(static: Path) -> None:
    """An app given its ``static_folder`` after it was made has no ``static`` route: the
    keyword's check finds no rule to read, and url_for's BuildError stands, not a
    KeyError from the url map."""
    (static / "site.css").write_bytes(CONTENT)
    app = Flask(__name__, static_folder=None)
    app.config["SECRET_KEY"] = "static secret"
    app.static_folder = str(static)
    Firehose(app)

    with app.test_request_context(), pytest.raises(BuildError, match="'static'"):
        push_static("site.css", lang_code="de")


@pytest.mark.parametrize("call", [push_static, static_tag])
def test_a_link_parameter_named_as_a_url_value_the_app_fills_leaves_url_for_s_error(
    static: Path, call: Callable[..., str]
) -> None:
    """A ``url_defaults`` function fills ``lang_code``, and the call gives a ``Link``
    parameter of that name beside a ``_method`` the static view does not take: url_for's
    BuildError names the method. It was a ValueError saying to fill ``lang_code`` with a
    ``url_defaults`` function, which the app has, that hid what was wrong."""
    app = localized_app(static, "/<lang_code>")

    @app.url_defaults
    def add_language(endpoint: str, values: dict[str, Any]) -> None:
        values.setdefault("lang_code", "de")

    with (
        app.test_request_context("/de/"),
        pytest.raises(BuildError, match=r"\('POST'\).*Did you mean to use methods"),
    ):
        call("site.css", endpoint="localized.static", lang_code="fr", _method="POST")


def test_a_version_of_the_caller_s_is_refused_naming_it(static: Path) -> None:
    """``push()``'s ``version=``, which ``push_static`` makes from the file's bytes: it
    failed inside ``push()`` with "push() got multiple values for keyword argument
    'version'", about a call the app never wrote."""
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static)

    with app.test_request_context():
        for helper in (push_static, static_tag):
            with pytest.raises(TypeError, match=rf"^{helper.__name__}\(\) makes the version"):
                helper("site.css", version="2")


@pytest.mark.parametrize("value", [3, 1.5, True, None, ["site.css"]])
@pytest.mark.parametrize("argument", ["filename", "endpoint"])
def test_a_file_name_or_endpoint_that_is_not_a_str_is_refused_naming_it(
    static: Path, argument: str, value: object
) -> None:
    """A template's ``push_static(page.stylesheet)`` or ``endpoint=bp`` given a number,
    None or a list: it raised a TypeError from ``os.path`` ("expected str, bytes or
    os.PathLike object, not int") or an AttributeError (``'NoneType' object has no
    attribute 'startswith'``), naming neither the argument nor the helper."""
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static)
    arguments = {"filename": "site.css", argument: value}

    with app.test_request_context():
        for helper in (push_static, static_tag):
            said = rf"^{helper.__name__}\(\)'s {argument} must be a str"
            with pytest.raises(ValueError, match=said):
                helper(**arguments)  # type: ignore[arg-type]


def test_templates_call_both_helpers_with_as(static: Path) -> None:
    (static / "site.css").write_bytes(CONTENT)
    (static / "feed.rss").write_bytes(CONTENT)
    app = make_app(static)
    v = version(CONTENT)

    @app.route("/page")
    def page() -> str:
        return render_template_string(
            "{{ static_tag('site.css') }}\n<a href=\"{{ push_static('feed.rss', as='fetch') }}\">"
        )

    response = app.test_client().get("/page")

    assert response.get_data(as_text=True) == (
        f'<link rel="stylesheet" href="/static/site.css?v={v}">\n<a href="/static/feed.rss?v={v}">'
    )
    assert response.headers["Link"] == (
        f"</static/site.css?v={v}>; rel=preload; as=style, "
        f"</static/feed.rss?v={v}>; rel=preload; as=fetch; crossorigin"
    )


@pytest.mark.parametrize("keyword", ["as", "as_"])
def test_as_given_as_html_is_read_as_the_page_reads_it_under_either_name(
    static: Path, keyword: str
) -> None:
    """``as_=`` given as a ``{% set %}`` block over lines was kept as written where
    ``as=`` was read as the page reads it: its font not seen, the element and the header
    had no ``crossorigin`` (a preload the font cannot use), and the element's ``as`` kept
    the newlines."""
    (static / "inter.woff2").write_bytes(CONTENT)
    app = make_app(static)
    v = version(CONTENT)

    @app.route("/page")
    def page() -> str:
        return render_template_string(
            "{% set kind %}\n  font\n{% endset %}"
            "{{ static_tag('inter.woff2', " + keyword + "=kind) }}"
        )

    response = app.test_client().get("/page")

    assert response.get_data(as_text=True) == (
        f'<link rel="preload" href="/static/inter.woff2?v={v}" as="font" crossorigin>'
    )
    assert response.headers["Link"] == (
        f"</static/inter.woff2?v={v}>; rel=preload; as=font; crossorigin"
    )


def test_an_extension_it_cannot_tell_asks_for_as(static: Path) -> None:
    (static / "notes.txt").write_bytes(CONTENT)
    app = make_app(static)

    with app.test_request_context(), pytest.raises(ValueError, match=r"'notes\.txt'.*as_="):
        push_static("notes.txt")


def test_a_missing_file_is_an_error_naming_it(static: Path) -> None:
    app = make_app(static)

    with app.test_request_context(), pytest.raises(ValueError, match=r"no static file 'sit\.css'"):
        push_static("sit.css")


@contextlib.contextmanager
def not_root() -> Iterator[None]:
    """As an unprivileged user if the tests run as root, who reads a file of any mode."""
    if os.geteuid() != 0:
        yield
        return
    os.seteuid(65534)  # nobody; the saved uid lets it back
    try:
        yield
    finally:
        os.seteuid(0)


def test_a_file_it_cannot_read_is_an_error_saying_why(tmp_path: Path) -> None:
    """A deploy that leaves the file unreadable to the app's user (mode 0600, another
    owner): the file is there, and an error (or a declaration's log line) that called it
    missing sent one looking for the wrong thing."""
    # Outside tmp_path, whose folders only their owner may enter: the file's own mode is
    # what keeps it from being read.
    folder = Path(tempfile.mkdtemp(suffix="static")) / "static"
    try:
        folder.mkdir()
        folder.parent.chmod(0o755)
        folder.chmod(0o755)
        (folder / "site.css").write_bytes(CONTENT)
        app = make_app(folder)
        with app.test_request_context(), not_root():
            assert push_static("site.css") == f"/static/site.css?v={version(CONTENT)}"
        (folder / "site.css").chmod(0)

        with (
            app.test_request_context(),
            not_root(),
            pytest.raises(ValueError, match=r"cannot read the static file 'site\.css'.*denied"),
        ):
            push_static("site.css")
    finally:
        shutil.rmtree(folder.parent)


def test_a_file_name_no_file_can_have_is_an_error_naming_it(static: Path) -> None:
    """A NUL byte: os.stat raised ValueError("embedded null byte"), naming no file."""
    app = make_app(static)

    with (
        app.test_request_context(),
        pytest.raises(ValueError, match=r"no static file 'a\\x00\.css'"),
    ):
        push_static("a\x00.css")


@pytest.mark.parametrize("filename", ["../secret.css", "/etc/passwd.css", "sub"])
def test_only_files_inside_the_static_folder_have_a_version(static: Path, filename: str) -> None:
    (static.parent / "secret.css").write_bytes(CONTENT)
    (static / "sub").mkdir()
    app = make_app(static)

    with app.test_request_context(), pytest.raises(ValueError, match="push_static"):
        push_static(filename)


def test_an_endpoint_that_is_not_static_is_refused(static: Path) -> None:
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static)

    with app.test_request_context(), pytest.raises(ValueError, match="'push'"):
        push_static("site.css", endpoint="push")


def test_an_unknown_blueprints_static_endpoint_is_refused(static: Path) -> None:
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static)

    with app.test_request_context(), pytest.raises(ValueError, match="no blueprint 'nosuch'"):
        push_static("site.css", endpoint="nosuch.static")


def test_a_blueprint_without_a_static_folder_is_refused(static: Path) -> None:
    """The app's file of that name was versioned, then url_for raised BuildError: the
    blueprint has no static endpoint."""
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static)
    plain = Blueprint("plain", __name__)

    @plain.route("/")
    def home() -> str:
        return push_static("site.css", endpoint=".static")

    app.register_blueprint(plain, url_prefix="/plain")
    with (
        app.test_request_context("/plain/"),
        pytest.raises(ValueError, match="blueprint 'plain' has no static_folder"),
    ):
        push_static("site.css", endpoint=".static")


def test_a_blueprint_view_named_static_without_a_folder_is_not_cached_for_good(
    static: Path,
) -> None:
    """Its ``v`` was checked against the app's file of that name: a match made the
    blueprint's own response immutable."""
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static)
    plain = Blueprint("plain", __name__)

    @plain.route("/files/<path:filename>", endpoint="static")
    def own_static(filename: str) -> str:
        return f"generated {filename}"

    app.register_blueprint(plain, url_prefix="/plain")
    response = app.test_client().get(f"/plain/files/site.css?v={version(CONTENT)}")
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != IMMUTABLE


def test_an_app_without_a_static_folder_is_refused(static: Path) -> None:
    app = make_app(static)
    app.static_folder = None
    with app.test_request_context(), pytest.raises(ValueError, match="the app has no static"):
        push_static("site.css")


def blueprint_app(static: Path) -> Flask:
    app = make_app(static)
    admin_static = static.parent / "admin_static"
    admin_static.mkdir()
    (admin_static / "admin.css").write_bytes(b"admin")
    admin = Blueprint(
        "admin", __name__, static_folder=str(admin_static), static_url_path="/assets"
    )

    @admin.route("/")
    def home() -> str:
        return str(static_tag("admin.css", endpoint=".static"))

    app.register_blueprint(admin, url_prefix="/admin")

    @app.route("/uses-admin")
    def uses_admin() -> str:
        return push_static("admin.css", endpoint="admin.static")

    return app


def test_a_blueprint_static_file_is_found_in_its_static_folder(static: Path) -> None:
    client = blueprint_app(static).test_client()
    url = f"/admin/assets/admin.css?v={version(b'admin')}"

    by_name = client.get("/uses-admin")
    relative = client.get("/admin/")

    assert by_name.get_data(as_text=True) == url
    assert relative.get_data(as_text=True) == f'<link rel="stylesheet" href="{url}">'
    assert relative.headers["Link"] == f"<{url}>; rel=preload; as=style; nopush"
    assert get_file(client, url).headers["Cache-Control"] == IMMUTABLE


def test_a_file_only_the_request_s_blueprint_holds_is_said_to_be_there(static: Path) -> None:
    """``static_tag("admin.css")`` in a blueprint's template names the app's static folder,
    as ``url_for("static", ...)`` does wherever the template is: the error said the file
    was not in the app's folder, and not that the blueprint's holds it, under
    ``endpoint=".static"``. A file no folder holds is said to be missing, no more."""
    app = blueprint_app(static)
    with app.test_request_context("/admin/"):
        assert request.blueprint == "admin"
        with pytest.raises(
            ValueError,
            match=re.escape(
                "no static file 'admin.css' in "
                f"{static} (the blueprint 'admin' serves it: endpoint='.static')"
            ),
        ):
            static_tag("admin.css")
        with pytest.raises(ValueError, match=re.escape(f"'nowhere.css' in {static}") + "$"):
            push_static("nowhere.css")
    with (
        app.test_request_context("/"),
        pytest.raises(ValueError, match=re.escape(f"'admin.css' in {static}") + "$"),
    ):
        push_static("admin.css")  # the app's own view: no blueprint to name


def test_a_blueprint_without_a_static_folder_is_not_said_to_serve_a_file(
    static: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request's blueprint with no static folder serves no file: Werkzeug's
    ``safe_join(None, name)`` is ``./name``, a file of the working directory, which the
    error would have said the blueprint serves."""
    app = make_app(static)
    shop = Blueprint("shop", __name__)

    @shop.route("/")
    def home() -> str:
        return ""

    app.register_blueprint(shop, url_prefix="/shop")
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "site.css").write_bytes(b"site")
    monkeypatch.chdir(workdir)
    with app.test_request_context("/shop/"):
        assert request.blueprint == "shop"
        with pytest.raises(ValueError, match=re.escape(f"'site.css' in {static}") + "$"):
            push_static("site.css")


@pytest.mark.parametrize(
    "static_url_path",
    [
        pytest.param("/static", id="the app's static_url_path"),
        pytest.param(None, id="a folder named static, so /static"),
    ],
)
def test_a_blueprint_static_url_the_app_s_static_view_answers_is_an_error(
    tmp_path: Path, static_url_path: str | None
) -> None:
    """A blueprint registered without a ``url_prefix`` whose static url is the app's:
    Flask routes that url to the app's static view (Flask's docs: its files cannot be
    reached), so the link named the app's file of that name, or a 404. A file the app
    holds too, with the same bytes, is served at that url, and pushed."""
    app_static, admin_static = tmp_path / "static", tmp_path / "admin" / "static"
    app_static.mkdir()
    admin_static.mkdir(parents=True)
    (app_static / "site.css").write_bytes(b"app")
    (admin_static / "site.css").write_bytes(b"admin site")
    (admin_static / "admin.css").write_bytes(b"admin")
    for folder in (app_static, admin_static):
        (folder / "same.css").write_bytes(b"same")
    app = make_app(app_static)
    admin = Blueprint(
        "admin", __name__, static_folder=str(admin_static), static_url_path=static_url_path
    )
    app.register_blueprint(admin)
    client = app.test_client()
    # What those urls serve: the app's file, or a 404.
    served = client.get(f"/static/site.css?v={version(b'admin site')}")
    assert served.get_data() == b"app"
    served.close()
    assert get_file(client, f"/static/admin.css?v={version(b'admin')}").status_code == 404

    # Mounted too, under a script root url_for writes as it is and a url quotes.
    for script_root in ("", "/my app"):
        shadowed = f"routes {script_root}/static/\\S+ to 'static', not to 'admin\\.static'"
        with app.test_request_context(environ_overrides={"SCRIPT_NAME": script_root}):
            for filename in ("site.css", "admin.css"):
                with pytest.raises(ValueError, match=shadowed):
                    push_static(filename, endpoint="admin.static")
                with pytest.raises(ValueError, match=shadowed):
                    static_tag(filename, endpoint="admin.static")
            same = f"{script_root}/static/same.css?v={version(b'same')}"
            assert push_static("same.css", endpoint="admin.static") == same


def test_a_blueprint_static_url_no_other_view_answers_is_pushed(tmp_path: Path) -> None:
    """An app without a static folder has no static view: the blueprint's answers the
    same url, and is pushed."""
    admin_static = tmp_path / "static"
    admin_static.mkdir()
    (admin_static / "admin.css").write_bytes(b"admin")
    app = Flask(__name__, static_folder=None)
    app.config["SECRET_KEY"] = "static secret"
    Firehose(app)
    app.register_blueprint(Blueprint("admin", __name__, static_folder=str(admin_static)))

    @app.route("/admin")
    def admin() -> str:
        return str(static_tag("admin.css", endpoint="admin.static"))

    client = app.test_client()
    url = f"/static/admin.css?v={version(b'admin')}"

    assert client.get("/admin").headers["Link"] == f"<{url}>; rel=preload; as=style"
    assert get_file(client, url).headers["Cache-Control"] == IMMUTABLE


def test_a_subdomain_blueprint_s_file_at_the_app_s_static_path_is_linked(static: Path) -> None:
    """A blueprint on a subdomain may serve its files at the path where the app serves its
    own (``/files`` on both hosts): its url is routed on its own host, where it names the
    blueprint's file, not on the page's, where the app's static view would answer it and
    ``push_static`` refuse it as another view's file. Another origin's, it is linked
    ``nopush``."""
    media_static = static.parent / "media_static"
    media_static.mkdir()
    (media_static / "part.css").write_bytes(b"part")
    app = Flask(
        __name__, static_folder=str(static), static_url_path="/files", subdomain_matching=True
    )
    app.config.update(SECRET_KEY="static secret", SERVER_NAME="site.test")
    Firehose(app)
    app.register_blueprint(
        Blueprint(
            "media",
            __name__,
            static_folder=str(media_static),
            static_url_path="/files",
            subdomain="media",
        )
    )

    @app.route("/")
    def page() -> str:
        return push_static("part.css", endpoint="media.static")

    response = app.test_client().get("/", base_url="http://site.test")

    url = f"http://media.site.test/files/part.css?v={version(b'part')}"
    assert response.status_code == 200
    assert response.get_data(as_text=True) == url
    assert response.headers["Link"] == f"<{url}>; rel=preload; as=style; nopush"


def test_a_static_url_flask_redirects_is_pushed_as_url_for_built_it(static: Path) -> None:
    """A rule that redirects a static file's url (``redirect_to``, a file renamed): Flask
    routes it to a 308, not to a view. The url is left as ``url_for`` built it, as the
    docstring says, and the page is the view's own: the ``RequestRedirect`` raised as it
    asked how Flask routes the url did not turn the page into a redirect."""
    (static / "old.css").write_bytes(CONTENT)
    app = make_app(static)
    app.url_map.add(Rule("/static/old.css", redirect_to="/static/site.css"))
    client = app.test_client()
    url = f"/static/old.css?v={version(CONTENT)}"

    response = client.get("/push?f=old.css")

    assert response.status_code == 200
    assert response.get_data(as_text=True) == url
    assert response.headers["Link"] == f"<{url}>; rel=preload; as=style"
    assert get_file(client, url).status_code == 308


@pytest.mark.parametrize(
    ("headers", "external", "written"),
    [
        # ProxyFix copies a client's prefix into the url, as its start or after the host.
        ({"X-Forwarded-Prefix": "//["}, False, "//[/static/site.css"),
        ({"X-Forwarded-Prefix": "//a]b"}, False, "//a]b/static/site.css"),
        ({"X-Forwarded-Prefix": "["}, True, "http://localhost[/static/site.css"),
        # Werkzeug accepts any hex digits and colons in brackets as a host.
        ({"Host": "[1:2]"}, True, "http://[1:2]/static/site.css"),
    ],
)
def test_a_url_whose_host_urlsplit_refuses_is_linked_not_a_500(
    static: Path, headers: dict[str, str], external: bool, written: str
) -> None:
    """``url_for`` writes a host, or a prefix, a client sent: ``//[/static/site.css?v=...``
    names a host ``urlsplit`` refuses (brackets it cannot read as IPv6). Asking how Flask
    routes that url raised its ValueError, a 500 where the app without the extension
    serves the page; ``push()`` links such a url ``nopush``, as another origin's, and so
    it is here."""
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_prefix=1)  # type: ignore[method-assign]
    url = f"{written}?v={version(CONTENT)}"
    # Called as a server calls it: the test client's own urlsplit refuses such a host.
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, fields: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started.append((status, fields))

    query = "f=site.css&_external=1" if external else "f=site.css"
    environ = EnvironBuilder(
        path="/tag", query_string=query, headers=list(headers.items())
    ).get_environ()
    body = b"".join(app(environ, start_response))

    [(status, fields)] = started
    assert status == "200 OK"
    assert body.decode() == f'<link rel="stylesheet" href="{url}">'
    assert [value for name, value in fields if name == "Link"] == [
        f"<{url}>; rel=preload; as=style; nopush"
    ]


def test_a_prefix_that_names_a_host_is_linked_not_routed_to_a_catch_all_view(
    static: Path,
) -> None:
    """A client's prefix ``//cdn.example``, through ProxyFix, makes the url ``url_for``
    writes another host's: its path, ``/static/site.css``, no longer starts with the script
    root, so Flask's routing of the file is not asked (cut at the root's length, the path
    would be routed as ``css``, which an app's catch-all view, an SPA's, answers). The url
    is another origin's, linked ``nopush`` as ``push()`` links it; asked, it was a 500
    where the app without the extension serves the page."""
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static)

    @app.route("/<path:rest>")
    def spa(rest: str) -> str:
        return "spa"

    app.wsgi_app = ProxyFix(app.wsgi_app, x_prefix=1)  # type: ignore[method-assign]
    url = f"//cdn.example/static/site.css?v={version(CONTENT)}"

    response = app.test_client().get(
        "/tag?f=site.css", headers={"X-Forwarded-Prefix": "//cdn.example"}
    )

    assert response.status_code == 200
    assert response.get_data(as_text=True) == f'<link rel="stylesheet" href="{url}">'
    assert response.headers["Link"] == f"<{url}>; rel=preload; as=style; nopush"


@pytest.mark.parametrize("prefix", ["http:cdn.example", "HTTPS:", "wss:x"])
def test_a_prefix_that_leaves_a_scheme_without_its_slashes_is_not_linked_not_a_500(
    static: Path, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A client's prefix, through ProxyFix, starts the url ``url_for`` writes:
    ``http:cdn.example/static/site.css``, a special scheme without ``//``, which
    ``push()`` refuses (test_links.py). Raised, it was a 500 where the app without the
    extension serves the page: the element names the url as ``url_for`` wrote it, and no
    ``Link`` or 103 does; nor is an ERROR logged of the declaration, the client's doing."""
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static, FIREHOSE_EARLY_HINTS=True)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_prefix=1)  # type: ignore[method-assign]
    url = f"{prefix}/static/site.css?v={version(CONTENT)}"

    @app.route("/page")
    @Firehose.hints_static("site.css")
    def page() -> str:
        return render_template_string("{{ static_tag('site.css') }} {{ push_static('site.css') }}")

    with caplog.at_level(logging.DEBUG, logger="firehose_digest"):
        hinted, response = first_visit(app, "/page", headers={"X-Forwarded-Prefix": prefix})

    assert response.status_code == 200
    assert response.get_data(as_text=True) == f'<link rel="stylesheet" href="{url}"> {url}'
    assert hinted == []
    assert "Link" not in response.headers
    assert [r.levelname for r in caplog.records if r.levelno >= logging.WARNING] == []


@pytest.mark.parametrize("helper", [push_static, static_tag], ids=lambda helper: helper.__name__)
def test_a_static_file_an_app_view_answers_in_its_place_is_an_error_naming_that_view(
    static: Path, helper: Callable[[str], object]
) -> None:
    """A view of the app's own whose rule is the url of a file in its static folder (a
    generated ``/static/theme.css``): Flask routes the url to that view, so the link would
    name bytes other than the file's. The error names the view and says what to change,
    not the blueprint's ``url_prefix`` no blueprint here has; and the call written
    (``static_tag``'s said ``push_static()``)."""
    (static / "theme.css").write_bytes(CONTENT)
    app = make_app(static)

    @app.route("/static/theme.css")
    def generated_theme() -> str:
        return "body { color: teal }"

    with app.test_request_context(), pytest.raises(ValueError) as raised:
        helper("theme.css")
    assert str(raised.value) == (
        f"{helper.__name__}(): Flask routes /static/theme.css to 'generated_theme', not to "
        "'static', whose file it names, and serves other bytes there: give the view or the "
        "file another url"
    )


def test_a_file_that_changes_size_gets_a_new_version_and_is_pushed_again(static: Path) -> None:
    path = static / "site.css"
    path.write_bytes(b"old")
    client = make_app(static).test_client()
    client.get("/push?f=site.css")

    path.write_bytes(b"new and longer")
    response = client.get("/push?f=site.css")

    url = f"/static/site.css?v={version(b'new and longer')}"
    assert response.get_data(as_text=True) == url
    assert response.headers["Link"] == f"<{url}>; rel=preload; as=style"  # not nopush


def test_a_file_rewritten_with_its_size_and_mtime_gets_a_new_version(static: Path) -> None:
    """``cp -p``, or a build with fixed mtimes: the size and mtime are the old ones, but
    the status change time (which utime sets to now) is not."""
    path = static / "site.css"
    path.write_bytes(b"aaa")
    first = file_version(str(path))
    before = path.stat()
    path.write_bytes(b"bbb")  # the same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert file_version(str(path)) == version(b"bbb") != first


def test_a_file_renamed_into_place_with_its_size_and_mtime_gets_a_new_version(
    static: Path,
) -> None:
    """A deploy that writes the new file beside the old and renames it over: another
    inode, whatever its times say."""
    path = static / "site.css"
    path.write_bytes(b"aaa")
    first = file_version(str(path))
    before = path.stat()
    new = static / "site.css.new"
    new.write_bytes(b"bbb")
    os.utime(new, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(new, path)
    assert file_version(str(path)) == version(b"bbb") != first


def test_a_file_rewritten_within_one_tick_of_its_filesystem_s_clock_gets_a_new_version(
    static: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A filesystem that keeps whole seconds (ext3, ext4 made with 128-byte inodes, HFS+;
    FAT's mtime even two) gives a file rewritten in place within the same second, at its
    old size, all of its old stamp: on an ``mkfs.ext4 -I 128`` loop mount, 2,000 rewrites
    of 2,000 did. The old version was then pushed, hinted, and served ``immutable`` with
    the new bytes, until the process restarted."""
    path = static / "site.css"
    path.write_bytes(b"aaa")
    inode = path.stat().st_ino
    second = path.stat().st_ctime_ns // 1_000_000_000 * 1_000_000_000
    real_stat, real_fstat = os.stat, os.fstat

    def in_whole_seconds(info: os.stat_result) -> os.stat_result:
        """``info`` as such a filesystem gives it, both writes in the same second."""
        if info.st_ino != inode:
            return info
        seconds = second // 1_000_000_000
        return os.stat_result(
            (*tuple(info)[:7], seconds, seconds, seconds),
            {"st_atime_ns": second, "st_mtime_ns": second, "st_ctime_ns": second},
        )

    monkeypatch.setattr(os, "stat", lambda *a, **k: in_whole_seconds(real_stat(*a, **k)))
    monkeypatch.setattr(os, "fstat", lambda fd: in_whole_seconds(real_fstat(fd)))
    monkeypatch.setattr(static_module, "time_ns", lambda: second + 500_000_000)
    client = make_app(static).test_client()
    old = client.get("/push?f=site.css").get_data(as_text=True)
    assert old == f"/static/site.css?v={version(b'aaa')}"

    with open(path, "r+b") as file:  # in place: the same inode
        file.write(b"bbb")
    assert file_version(str(path)) == version(b"bbb")
    new = client.get("/push?f=site.css").get_data(as_text=True)
    assert new == f"/static/site.css?v={version(b'bbb')}"
    assert get_file(client, old).headers["Cache-Control"] == "no-cache"


def test_a_version_is_remembered_with_the_stamp_of_the_file_it_hashed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deploy that flips a ``current -> releases/N`` symlink between the stat and the
    open: the second release's bytes were remembered under the first's stamp, so after a
    rollback the first release's file was served ``immutable`` at the second's url."""
    for release, content in (("one", b"release one"), ("two", b"release two")):
        (tmp_path / release).mkdir()
        (tmp_path / release / "site.css").write_bytes(content)
    current = tmp_path / "current"

    def deploy(release: str) -> None:
        (tmp_path / "next").symlink_to(tmp_path / release)
        os.replace(tmp_path / "next", current)

    deploy("one")
    app = Flask(__name__, static_folder=str(current), static_url_path="/static")
    app.config["SECRET_KEY"] = "static secret"
    Firehose(app)
    real_open = open

    def open_during_the_deploy(file: Any, *args: Any, **kwargs: Any) -> Any:
        if str(file) == str(current / "site.css"):
            deploy("two")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", open_during_the_deploy)
    with app.test_request_context():
        assert push_static("site.css") == f"/static/site.css?v={version(b'release two')}"
    monkeypatch.setattr("builtins.open", real_open)
    deploy("one")  # the rollback

    assert file_version(str(current / "site.css")) == version(b"release one")
    response = get_file(app.test_client(), f"/static/site.css?v={version(b'release two')}")
    assert response.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize("names", [["site.css"], ["site.css", "app.js"]], ids=["one", "two"])
@pytest.mark.parametrize("hours", [1, -1], ids=["written an hour ago", "dated an hour ahead"])
def test_an_unchanged_file_is_not_read_again(
    static: Path, names: list[str], monkeypatch: pytest.MonkeyPatch, hours: int
) -> None:
    """Versions are remembered per file, not only the last one asked for: a page of a
    stylesheet and a script does not rehash both on every request (once their times are
    settled: the clock here reads an hour after they were written, or an hour before, as
    for a file a build dated ahead of this machine's clock)."""
    later = time.time_ns() + hours * 3600 * 1_000_000_000
    monkeypatch.setattr(static_module, "time_ns", lambda: later)
    paths = [static / name for name in names]
    for path in paths:
        path.write_bytes(path.name.encode())
        assert file_version(str(path)) == version(path.name.encode())
    opened: list[str] = []
    real_open = open

    def counting_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", counting_open)
    for path in paths:
        assert file_version(str(path)) == version(path.name.encode())
    assert opened == []


def test_a_device_linked_into_the_static_folder_has_no_version(static: Path) -> None:
    """Only a regular file is hashed: a symlink to a device (or a FIFO, whose open blocks)
    is refused as a directory is, not versioned from whatever reading it gives."""
    (static / "null.css").symlink_to(os.devnull)

    with pytest.raises(IsADirectoryError, match="not a regular file"):
        file_version(str(static / "null.css"))
    with make_app(static).test_request_context(), pytest.raises(ValueError, match=r"'null\.css'"):
        push_static("null.css")


def test_the_version_cache_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(static_module, "MAX_VERSIONED_FILES", 4)
    monkeypatch.setattr(static_module, "_versions", {})
    for n in range(10):
        path = tmp_path / f"{n}.css"
        path.write_bytes(b"%d" % n)
        assert file_version(str(path)) == version(b"%d" % n)
        assert len(static_module._versions) <= 4


def test_a_file_changed_in_a_full_version_cache_takes_its_own_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exactly full, the cache hashes a changed file again in its entry's place: the other
    files stay known, as they did not when it was emptied for a path it already held."""
    monkeypatch.setattr(static_module, "MAX_VERSIONED_FILES", 4)
    monkeypatch.setattr(static_module, "_versions", {})
    paths = [tmp_path / f"{n}.css" for n in range(4)]
    for n, path in enumerate(paths):
        path.write_bytes(b"%d" % n)
        file_version(str(path))
    paths[0].write_bytes(b"changed")
    assert file_version(str(paths[0])) == version(b"changed")
    assert set(static_module._versions) == {str(path) for path in paths}
    # One past it, a new file empties it.
    (tmp_path / "4.css").write_bytes(b"4")
    file_version(str(tmp_path / "4.css"))
    assert set(static_module._versions) == {str(tmp_path / "4.css")}


# -- a versioned url is cached for good ----------------------------------------------------


def test_a_static_file_asked_for_by_its_current_version_is_immutable(static: Path) -> None:
    (static / "site.css").write_bytes(CONTENT)
    client = make_app(static).test_client()
    url = client.get("/push?f=site.css").get_data(as_text=True)

    fresh = get_file(client, url)
    revalidated = get_file(client, url, headers={"If-None-Match": fresh.headers["ETag"]})

    assert fresh.status_code == 200
    assert fresh.headers["Cache-Control"] == IMMUTABLE
    assert revalidated.status_code == 304
    assert revalidated.headers["Cache-Control"] == IMMUTABLE


@pytest.mark.parametrize(
    ("set_by_app", "served"),
    [
        ("private, no-store", "private, no-store"),
        ("no-store", "no-store"),
        ("private", PRIVATE_IMMUTABLE),
        ('private="Set-Cookie", max-age=60', PRIVATE_IMMUTABLE),
        ("public, max-age=60", IMMUTABLE),
        ("no-cache", IMMUTABLE),
        ("Private, No-Store", "Private, No-Store"),  # directive names in any case
        ("PRIVATE", PRIVATE_IMMUTABLE),
    ],
)
def test_a_current_version_keeps_what_the_app_kept_from_shared_caches(
    static: Path, set_by_app: str, served: str
) -> None:
    """A blueprint serving signed-in users' files marks them private or no-store in a
    hook; ours runs after it, and made them ``public`` for a year (a stranger's hunt)."""
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static)

    @app.after_request
    def mark(response: Response) -> Response:
        response.headers["Cache-Control"] = set_by_app
        return response

    client = app.test_client()
    url = client.get("/push?f=site.css").get_data(as_text=True)
    assert get_file(client, url).headers["Cache-Control"] == served


def signed_in_app(static: Path, enabled: bool, **config: Any) -> Flask:
    """A site whose ``/login`` signs a user in (``?permanent=1``: a permanent session), and
    whose hook does to the session of a static file's request what ``X-On-File`` says:
    nothing, read it, change it, or empty it (a logout)."""
    app = Flask(__name__, static_folder=str(static))
    app.config.update(SECRET_KEY="static secret", FIREHOSE_ENABLED=enabled, **config)

    @app.before_request
    def on_file() -> None:
        action = request.headers.get("X-On-File")
        if action == "read":
            session.get("user")
        elif action == "modified":
            session["seen"] = request.path
        elif action == "deleted":
            session.clear()

    @app.route("/login")
    def login() -> str:
        session.permanent = "permanent" in request.args
        session["user"] = "alice"
        return "signed in"

    Firehose(app)
    return app


@pytest.mark.parametrize("enabled", [True, False])
@pytest.mark.parametrize(
    ("signed_in", "on_file", "refresh", "served"),
    [
        ("permanent", "untouched", True, PRIVATE_IMMUTABLE),  # Flask refreshes its expiry
        ("permanent", "read", True, PRIVATE_IMMUTABLE),
        ("permanent", "untouched", False, IMMUTABLE),  # SESSION_REFRESH_EACH_REQUEST off
        ("not permanent", "untouched", True, IMMUTABLE),
        ("not permanent", "read", True, IMMUTABLE),
        ("not permanent", "modified", True, PRIVATE_IMMUTABLE),
        ("not permanent", "deleted", True, PRIVATE_IMMUTABLE),  # its expiring Set-Cookie
        ("signed out", "untouched", True, IMMUTABLE),
        ("signed out", "modified", True, PRIVATE_IMMUTABLE),  # a new session
    ],
)
def test_a_current_version_that_sets_a_session_cookie_is_private(
    static: Path, enabled: bool, signed_in: str, on_file: str, refresh: bool, served: str
) -> None:
    """Flask saves the session after every ``after_request`` hook, ours included: a
    permanent one on every request (``SESSION_REFRESH_EACH_REQUEST``, on by default). A
    file went out ``public`` for a year beside the user's ``Set-Cookie: session=...``,
    which a shared cache that ignores ``Vary: Cookie``, or Apache's for clients sending no
    cookie, then handed to others; without the extension Flask sent ``no-cache`` there.
    The session is asked without being marked read: a file whose request left it alone
    gets no ``Vary: Cookie`` from us."""
    (static / "site.css").write_bytes(CONTENT)
    app = signed_in_app(static, enabled, SESSION_REFRESH_EACH_REQUEST=refresh)
    client = app.test_client()
    if signed_in != "signed out":
        login = "/login?permanent=1" if signed_in == "permanent" else "/login"
        assert "Set-Cookie" in client.get(login).headers
    with app.test_request_context():
        url = push_static("site.css")

    response = get_file(client, url, headers={"X-On-File": on_file})

    assert response.headers["Cache-Control"] == served
    assert ("Set-Cookie" in response.headers) is (served == PRIVATE_IMMUTABLE)
    if on_file == "untouched" and served == IMMUTABLE:
        assert "Vary" not in response.headers


@pytest.mark.parametrize("enabled", [True, False])
@pytest.mark.parametrize("request_headers", ["If-None-Match", "Range"])
def test_a_revalidation_or_a_range_that_sets_a_session_cookie_is_private(
    static: Path, enabled: bool, request_headers: str
) -> None:
    """A 304 and a 206 of the current version are upgraded as its 200 is, and carry the
    refreshed session cookie as it does: a cache merges a 304's fields into the response
    it stored (RFC 9111 §4.3.4)."""
    (static / "site.css").write_bytes(CONTENT)
    app = signed_in_app(static, enabled)
    client = app.test_client()
    client.get("/login?permanent=1")
    with app.test_request_context():
        url = push_static("site.css")
    etag = get_file(client, url).headers["ETag"]
    headers = (
        {"If-None-Match": etag} if request_headers == "If-None-Match" else {"Range": "bytes=0-3"}
    )

    response = get_file(client, url, headers=headers)

    assert response.status_code == (304 if request_headers == "If-None-Match" else 206)
    assert "Set-Cookie" in response.headers
    assert response.headers["Cache-Control"] == PRIVATE_IMMUTABLE


@pytest.mark.parametrize("enabled", [True, False])
@pytest.mark.parametrize("registered", ["before", "after"])
def test_a_current_version_a_hook_sets_a_cookie_on_is_private(
    static: Path, enabled: bool, registered: str
) -> None:
    """A cookie an ``after_request`` hook of the app sets (a consent banner's, an A/B
    test's) goes out with the file; the file's own ``public`` directive is replaced
    by ``private`` too, which the hook would not have asked for but needed."""
    (static / "site.css").write_bytes(CONTENT)
    app = Flask(__name__, static_folder=str(static))
    app.config.update(SECRET_KEY="static secret", FIREHOSE_ENABLED=enabled)

    def set_cookie(response: Response) -> Response:
        response.set_cookie("ab_test", "b")
        return response

    if registered == "before":
        app.after_request(set_cookie)
    Firehose(app)
    if registered == "after":
        app.after_request(set_cookie)
    with app.test_request_context():
        url = push_static("site.css")

    response = get_file(app.test_client(), url)

    assert response.headers.getlist("Set-Cookie") == ["ab_test=b; Path=/"]
    assert response.headers["Cache-Control"] == PRIVATE_IMMUTABLE


@pytest.mark.parametrize("enabled", [True, False])
def test_a_current_version_with_flask_session_s_cookie_is_private(
    static: Path, enabled: bool
) -> None:
    """Flask-Session's sessions are permanent by default, and its cookie (the session's
    id) is set again on every request of a signed-in user; a visitor with no session
    gets none, and the file stays ``public``."""
    (static / "site.css").write_bytes(CONTENT)
    app = Flask(__name__, static_folder=str(static))
    app.config.update(
        SECRET_KEY="static secret",
        FIREHOSE_ENABLED=enabled,
        SESSION_TYPE="cachelib",
        SESSION_CACHELIB=SimpleCache(),
    )
    Session(app)
    Firehose(app)

    @app.route("/login")
    def login() -> str:
        session["user"] = "alice"
        return "signed in"

    with app.test_request_context():
        url = push_static("site.css")
    visitor, user = app.test_client(), app.test_client()
    user.get("/login")

    anonymous, signed_in = get_file(visitor, url), get_file(user, url)

    assert "Set-Cookie" not in anonymous.headers
    assert anonymous.headers["Cache-Control"] == IMMUTABLE
    assert "Set-Cookie" in signed_in.headers
    assert signed_in.headers["Cache-Control"] == PRIVATE_IMMUTABLE


def adding_a_cookie(
    wsgi_app: WSGIApplication, header: str = "Set-Cookie"
) -> Callable[[WSGIEnvironment, StartResponse], Any]:
    """``wsgi_app`` under a middleware that adds a cookie as the response starts (a sticky
    route's), as ``header``."""

    def sticky_route(environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers.append((header, "route=b; Path=/"))
            return start_response(status, headers, exc_info)

        return wsgi_app(environ, start)

    return sticky_route


@pytest.mark.parametrize("enabled", [True, False])
@pytest.mark.parametrize(
    ("adds", "served"), [("set-cookie", PRIVATE_IMMUTABLE), ("X-Route", IMMUTABLE)]
)
def test_a_current_version_a_middleware_inside_sets_a_cookie_on_is_private(
    static: Path, enabled: bool, adds: str, served: str
) -> None:
    """A WSGI middleware wrapped around ``app.wsgi_app`` before ``init_app`` runs inside
    ours, after Flask is done: a cookie it adds as the response starts (a sticky route's),
    its name in any case, goes out with the file, which is then private all the same."""
    (static / "site.css").write_bytes(CONTENT)
    app = Flask(__name__, static_folder=str(static))
    app.config.update(SECRET_KEY="static secret", FIREHOSE_ENABLED=enabled)
    app.wsgi_app = adding_a_cookie(app.wsgi_app, adds)  # type: ignore[method-assign,assignment]
    Firehose(app)
    with app.test_request_context():
        url = push_static("site.css")

    response = get_file(app.test_client(), url)

    assert response.headers.getlist(adds) == ["route=b; Path=/"]
    assert response.headers["Cache-Control"] == served


def visit_counting_app(static: Path, enabled: bool) -> Flask:
    """An app, not yet set up, serving ``static``'s ``site.css``, whose ``before_request``
    hook changes the session on every request, its files' too."""
    (static / "site.css").write_bytes(CONTENT)
    app = Flask(__name__, static_folder=str(static))
    app.config.update(SECRET_KEY="static secret", FIREHOSE_ENABLED=enabled)

    @app.before_request
    def count_visits() -> None:
        session["visits"] = session.get("visits", 0) + 1

    return app


@pytest.mark.parametrize("enabled", [True, False])
def test_a_current_version_behind_a_middleware_inside_that_copies_the_environ_is_private(
    static: Path, enabled: bool
) -> None:
    """A middleware wrapped around ``app.wsgi_app`` before ``init_app`` that hands Flask a
    copy of the environ (``dict(environ)``, as one that rewrites a path does): the file,
    beside the session cookie a ``before_request`` hook changed, went out ``public`` for a
    year, as what the static step marked in Flask's environ never reached ours."""
    app = visit_counting_app(static, enabled)
    flask_wsgi_app = app.wsgi_app

    def copies_environ(environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        return flask_wsgi_app(dict(environ), start_response)

    app.wsgi_app = copies_environ  # type: ignore[method-assign]
    Firehose(app)
    with app.test_request_context():
        url = push_static("site.css")

    response = get_file(app.test_client(), url)

    assert response.headers["Set-Cookie"].startswith("session=")
    assert response.headers["Cache-Control"] == PRIVATE_IMMUTABLE


def site_and_shop(static: Path, site_enabled: bool, shop_enabled: bool) -> tuple[Flask, Flask]:
    """A site, not yet set up, and a shop set up that serves ``static``'s ``site.css``, to
    be mounted in the site's ``wsgi_app`` at ``/shop``."""
    (static / "site.css").write_bytes(CONTENT)
    shop = Flask("shop", static_folder=str(static))
    shop.config.update(SECRET_KEY="shop secret", FIREHOSE_ENABLED=shop_enabled)
    Firehose(shop)
    site = Flask(__name__)
    site.config.update(SECRET_KEY="site secret", FIREHOSE_ENABLED=site_enabled)
    return site, shop


@pytest.mark.parametrize("site_enabled", [True, False])
@pytest.mark.parametrize("shop_enabled", [True, False])
def test_a_current_version_of_an_app_mounted_inside_a_middleware_that_sets_a_cookie_is_private(
    static: Path, site_enabled: bool, shop_enabled: bool
) -> None:
    """An app mounted with ``DispatcherMiddleware`` inside another's ``wsgi_app``, both set
    up, and a middleware of the outer app's around both that adds a cookie (a sticky
    route's): the shop's file went out ``public`` beside it, as its static step marked the
    shop's wrapper alone, which looked before the cookie was added, and the site's, which
    saw it, was never told."""
    site, shop = site_and_shop(static, site_enabled, shop_enabled)
    mounted = DispatcherMiddleware(site.wsgi_app, {"/shop": shop})
    site.wsgi_app = adding_a_cookie(mounted)  # type: ignore[method-assign,assignment]
    Firehose(site)
    with shop.test_request_context(base_url="http://localhost/shop"):
        url = push_static("site.css")

    response = get_file(site.test_client(), url)

    assert url.startswith("/shop/static/site.css?v=")
    assert response.headers["Set-Cookie"] == "route=b; Path=/"
    assert response.headers["Cache-Control"] == PRIVATE_IMMUTABLE


@pytest.mark.parametrize("enabled", [True, False])
def test_a_file_a_view_asks_its_own_app_for_leaves_the_page_s_cache_control(
    static: Path, enabled: bool
) -> None:
    """A view that makes a request for a versioned file with a copy of its environ: that
    response is not the page's, whose own ``public, immutable`` beside its cookie is kept,
    as a page's is (unlike an app mounted inside another's ``wsgi_app``, above)."""
    app = visit_counting_app(static, enabled)
    Firehose(app)
    with app.test_request_context():
        url = push_static("site.css")
    file_headers: list[tuple[str, str]] = []
    inline_view(app, url, file_headers)

    page = app.test_client().get("/inline")

    assert dict(file_headers)["Cache-Control"] == PRIVATE_IMMUTABLE
    assert page.headers["Set-Cookie"].startswith("session=")
    assert page.headers["Cache-Control"] == IMMUTABLE


def test_a_file_a_view_asks_for_from_a_worker_thread_leaves_the_page_s_cache_control(
    static: Path,
) -> None:
    """The same request made from a worker thread (a ``ThreadPoolExecutor`` copies no
    context), with push on: the page's record, which the copy of its environ names, tells
    the page's list from one of a wrapper the file's app is mounted inside, and the page
    keeps its own ``public, immutable`` beside its cookie."""
    app = visit_counting_app(static, enabled=True)
    Firehose(app)
    url = f"/static/site.css?v={version(CONTENT)}"
    file_headers: list[tuple[str, str]] = []
    inline_view(app, url, file_headers, threaded=True)

    page = app.test_client().get("/inline")

    assert dict(file_headers)["Cache-Control"] == PRIVATE_IMMUTABLE
    assert page.headers["Set-Cookie"].startswith("session=")
    assert page.headers["Cache-Control"] == IMMUTABLE


@pytest.mark.parametrize("enabled", [True, False])
def test_a_page_asked_after_a_file_with_a_copy_of_its_environ_keeps_its_cache_control(
    static: Path, enabled: bool
) -> None:
    """A middleware around the app (wrapped after ``init_app``) that asks it for a
    versioned file, then for a page, with copies of one environ (an edge-include
    assembler's, a cache warmer's): the copy holds the file's finished mark, which is not
    the page's, and the page keeps its own ``public, immutable`` beside its cookie."""
    (static / "site.css").write_bytes(CONTENT)
    app = Flask(__name__, static_folder=str(static))
    app.config.update(SECRET_KEY="static secret", FIREHOSE_ENABLED=enabled)

    @app.route("/fragment")
    def fragment() -> Response:
        session["seen"] = True
        return Response("fragment", headers={"Cache-Control": IMMUTABLE})

    Firehose(app)
    flask_wsgi_app = app.wsgi_app
    path, query = "/static/site.css", f"v={version(CONTENT)}"
    file_headers: list[tuple[str, str]] = []

    def file_then_fragment(environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            file_headers.extend(headers)

        asked = dict(environ, PATH_INFO=path, QUERY_STRING=query)
        body = flask_wsgi_app(asked, start)
        b"".join(body)
        getattr(body, "close", lambda: None)()
        return flask_wsgi_app(dict(asked, PATH_INFO="/fragment", QUERY_STRING=""), start_response)

    app.wsgi_app = file_then_fragment  # type: ignore[method-assign]

    page = app.test_client().get("/fragment")

    assert dict(file_headers)["Cache-Control"] == IMMUTABLE
    assert page.headers["Set-Cookie"].startswith("session=")
    assert page.headers["Cache-Control"] == IMMUTABLE


def inline_view(
    app: Flask, url: str, file_headers: list[tuple[str, str]], *, threaded: bool = False
) -> None:
    """A ``/inline`` page whose view inlines the file at ``url``, asked of ``app.wsgi_app``
    with a copy of its environ (its headers in ``file_headers``; from a worker thread, which
    copies no context, if ``threaded``), sets the session and writes its own ``public,
    immutable``."""

    @app.route("/inline")
    def inline() -> Response:
        path, _, query = url.partition("?")
        environ = dict(request.environ, PATH_INFO=path, QUERY_STRING=query)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            file_headers.extend(headers)

        def fetch() -> bytes:
            body = app.wsgi_app(environ, start)
            try:
                return b"".join(body)
            finally:
                getattr(body, "close", lambda: None)()

        if threaded:
            with ThreadPoolExecutor(1) as executor:
                css = executor.submit(fetch).result()
        else:
            css = fetch()
        session["visits"] = session.get("visits", 0) + 1
        page = app.make_response(f"<style>{css.decode()}</style>")
        page.headers["Cache-Control"] = IMMUTABLE
        return page


@pytest.mark.parametrize("site_enabled", [True, False])
@pytest.mark.parametrize("shop_enabled", [True, False])
def test_a_mounted_app_s_file_a_view_asks_for_leaves_the_page_s_cache_control(
    static: Path, site_enabled: bool, shop_enabled: bool
) -> None:
    """A view that inlines the file of an app mounted in its own with ``DispatcherMiddleware``
    wrapped after ``Firehose(app)``, asked with a copy of its environ: the shop's wrapper took
    the page's wrapper for one it is mounted inside when the site's push was off, and the
    page went out ``private`` beside its session cookie."""
    site, shop = site_and_shop(static, site_enabled, shop_enabled)
    Firehose(site)
    site.wsgi_app = DispatcherMiddleware(site.wsgi_app, {"/shop": shop})  # type: ignore[method-assign]
    url = f"/shop/static/site.css?v={version(CONTENT)}"
    file_headers: list[tuple[str, str]] = []
    inline_view(site, url, file_headers)

    page = site.test_client().get("/inline")

    assert dict(file_headers)["Cache-Control"] == IMMUTABLE
    assert page.headers["Set-Cookie"].startswith("session=")
    assert page.headers["Cache-Control"] == IMMUTABLE


@pytest.mark.parametrize("site_enabled", [True, False])
@pytest.mark.parametrize("shop_enabled", [True, False])
def test_a_mounted_app_s_file_a_view_asks_for_sees_a_cookie_added_around_the_mount(
    static: Path, site_enabled: bool, shop_enabled: bool
) -> None:
    """The same file asked by the view through the site's wrapper, wrapped after
    ``DispatcherMiddleware``, with a middleware between the two that adds a cookie: it went
    out ``public`` beside that cookie when the shop's push was off, as its wrapper, in a
    request, never marked the site's."""
    site, shop = site_and_shop(static, site_enabled, shop_enabled)
    mounted = DispatcherMiddleware(site.wsgi_app, {"/shop": shop})
    site.wsgi_app = adding_a_cookie(mounted)  # type: ignore[method-assign,assignment]
    Firehose(site)
    url = f"/shop/static/site.css?v={version(CONTENT)}"
    file_headers: list[tuple[str, str]] = []
    inline_view(site, url, file_headers)

    page = site.test_client().get("/inline")

    assert ("Set-Cookie", "route=b; Path=/") in file_headers
    assert dict(file_headers)["Cache-Control"] == PRIVATE_IMMUTABLE
    assert page.headers["Cache-Control"] == IMMUTABLE


@pytest.mark.parametrize("enabled", [True, False])
def test_a_cache_control_the_static_step_did_not_write_is_left_as_it_is(
    static: Path, enabled: bool
) -> None:
    """Only what the static step wrote is made private as the response starts: a view's
    own ``public, immutable`` beside its cookie, and what a middleware inside ours wrote
    over the file's, go out as they were made."""
    (static / "site.css").write_bytes(CONTENT)
    app = Flask(__name__, static_folder=str(static))
    app.config.update(SECRET_KEY="static secret", FIREHOSE_ENABLED=enabled)
    flask_wsgi_app = app.wsgi_app

    def short_lived(environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers[:] = [(name, value) for name, value in headers if name != "Cache-Control"]
            headers += [("Cache-Control", "public, max-age=600"), ("Set-Cookie", "route=b")]
            return start_response(status, headers, exc_info)

        if environ["PATH_INFO"].startswith("/static/"):
            return flask_wsgi_app(environ, start)
        return flask_wsgi_app(environ, start_response)

    app.wsgi_app = short_lived  # type: ignore[method-assign]
    Firehose(app)

    @app.route("/own")
    def own() -> Response:
        response = Response("own", headers={"Cache-Control": IMMUTABLE})
        response.set_cookie("theme", "dark")
        return response

    with app.test_request_context():
        url = push_static("site.css")
    client = app.test_client()

    assert client.get("/own").headers["Cache-Control"] == IMMUTABLE
    assert get_file(client, url).headers["Cache-Control"] == "public, max-age=600"


class RememberMe(SecureCookieSessionInterface):
    """A session interface whose ``save_session`` also sets a ``remember`` cookie on each
    response of a signed-in user, which its ``should_set_cookie`` knows nothing of."""

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        super().save_session(app, session, response)
        if "user" in session:
            response.set_cookie("remember", "alice", max_age=86400)


@pytest.mark.parametrize("enabled", [True, False])
@pytest.mark.parametrize(("signed_in", "served"), [(True, PRIVATE_IMMUTABLE), (False, IMMUTABLE)])
def test_a_current_version_a_session_interface_sets_a_cookie_on_is_private(
    static: Path, enabled: bool, signed_in: bool, served: str
) -> None:
    """What a session interface of the app writes as it saves the session, after every
    ``after_request`` hook, is seen as the response starts: a file whose response sets
    its cookie is private, one whose response sets none stays public."""
    (static / "site.css").write_bytes(CONTENT)
    app = signed_in_app(static, enabled)
    app.session_interface = RememberMe()
    client = app.test_client()
    if signed_in:
        client.get("/login")
    with app.test_request_context():
        url = push_static("site.css")

    response = get_file(client, url)

    assert ("Set-Cookie" in response.headers) is signed_in
    assert response.headers["Cache-Control"] == served


@pytest.mark.parametrize("enabled", [True, False])
def test_a_hook_registered_before_the_extension_is_seen_too(static: Path, enabled: bool) -> None:
    """The static step runs after every ``after_request`` hook, whenever registered: with
    push off it was added as Flask adds one, so it ran before the hooks registered before
    it, and a file one marked ``private`` lost ``immutable`` (the hook's value replaced
    ours)."""
    (static / "site.css").write_bytes(CONTENT)
    app = Flask(__name__, static_folder=str(static))
    app.config.update(SECRET_KEY="static secret", FIREHOSE_ENABLED=enabled)

    @app.after_request
    def mark(response: Response) -> Response:
        response.headers["Cache-Control"] = "private"
        return response

    Firehose(app)
    with app.test_request_context():
        url = push_static("site.css")
    assert get_file(app.test_client(), url).headers["Cache-Control"] == PRIVATE_IMMUTABLE


def test_with_push_off_an_error_page_a_middleware_starts_keeps_its_exc_info() -> None:
    """With push off our wrapper is the static step's alone, and hands the server each
    start as the app made it: an error page a middleware inside ours starts over the
    response with ``exc_info`` (PEP 3333) keeps it, without which a server refuses a second
    start (wsgiref: "Headers already set!")."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="static secret", FIREHOSE_ENABLED=False)
    app.wsgi_app = error_pages(app.wsgi_app)  # type: ignore[method-assign]
    Firehose(app)

    @app.route("/")
    def index() -> Response:
        def chunks() -> Iterator[str]:
            yield "<p>one"
            raise RuntimeError("the stream broke")

        return Response(chunks())

    started: list[tuple[str, Any]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started.append((status, exc_info))  # not sent yet: a later call replaces it

    assert app.wsgi_app(EnvironBuilder("/").get_environ(), start_response) == [b"error"]
    (first, no_error), (status, exc_info) = started
    assert (first[:3], no_error) == ("200", None)
    assert status.startswith("500")
    assert exc_info is not None
    assert str(exc_info[1]) == "the stream broke"


def test_push_off_can_be_set_up_after_the_first_request(static: Path) -> None:
    """With push on, ``init_app`` adds its steps to Flask's lists, as it may after the app
    served a request; with it off it called ``app.after_request``, which Flask refuses
    then (an AssertionError)."""
    (static / "site.css").write_bytes(CONTENT)
    app = Flask(__name__, static_folder=str(static))
    app.config.update(SECRET_KEY="static secret", FIREHOSE_ENABLED=False)
    app.test_client().get("/static/site.css").close()
    Firehose(app)
    with app.test_request_context():
        url = push_static("site.css")
    assert get_file(app.test_client(), url).headers["Cache-Control"] == IMMUTABLE


@pytest.mark.parametrize("enabled", [(True,), (True, False)], ids=["on", "on-off"])
def test_a_file_is_cached_in_one_step_after_push_was_turned_on(
    static: Path, monkeypatch: pytest.MonkeyPatch, enabled: tuple[bool, ...]
) -> None:
    """``init_app`` with push off adds the static step alone; a later one with push on
    adds the push step, which caches static files too, and the first stays on the app.
    It does nothing while the push step is there, whatever a later ``init_app`` sets:
    the file's version is read once per request, not twice."""
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static, FIREHOSE_ENABLED=False)
    for value in enabled:
        app.config["FIREHOSE_ENABLED"] = value
        Firehose(app)
    with app.test_request_context():
        url = push_static("site.css")
    read: list[str] = []
    known_version = static_module._known_version

    def counted(path: str) -> Any:
        read.append(path)
        return known_version(path)

    monkeypatch.setattr(static_module, "_known_version", counted)
    response = get_file(app.test_client(), url)
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert read == [os.path.join(static, "site.css")]


@pytest.mark.parametrize("query", ["", "?v=0000000000", "?other=1"])
def test_other_static_responses_keep_the_apps_caching(static: Path, query: str) -> None:
    (static / "site.css").write_bytes(CONTENT)
    client = make_app(static, SEND_FILE_MAX_AGE_DEFAULT=60).test_client()

    response = get_file(client, f"/static/site.css{query}")

    assert response.headers["Cache-Control"] == "public, max-age=60"


def test_a_versioned_file_a_hook_answers_with_an_error_status_keeps_the_apps_caching(
    static: Path,
) -> None:
    """A hook that turns a file's response into an error (410 for a withdrawn file) keeps
    its headers, the file's Last-Modified among them: that answer is not the file, and
    must not be kept a year as if it were."""
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static, SEND_FILE_MAX_AGE_DEFAULT=60)

    @app.after_request
    def withdraw(response: Response) -> Response:
        if request.endpoint == "static":
            response.status_code = 410
        return response

    response = get_file(app.test_client(), f"/static/site.css?v={version(CONTENT)}")

    assert response.status_code == 410
    assert "Last-Modified" in response.headers
    assert response.headers["Cache-Control"] == "public, max-age=60"


@pytest.mark.parametrize("enabled", [True, False])
@pytest.mark.parametrize("query", ["\xe9", "v=\xe9", "v=%E9"])
@pytest.mark.parametrize(("filename", "status"), [("site.css", 200), ("missing.css", 404)])
def test_a_query_that_is_not_utf8_is_served_as_flask_serves_it(
    static: Path, enabled: bool, query: str, filename: str, status: int
) -> None:
    """A server may hand the query's raw bytes over (a WSGI str is latin-1): Werkzeug
    refuses to read ``args`` from them, and a static file answered 500."""
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static, FIREHOSE_ENABLED=enabled)
    with app.test_client() as client:
        response = client.get(f"/static/{filename}", environ_overrides={"QUERY_STRING": query})
        response.close()
    assert response.status_code == status
    assert "immutable" not in response.headers.get("Cache-Control", "")


@pytest.mark.parametrize(
    ("byte_range", "status", "immutable"),
    [("bytes=0-3", 206, True), ("bytes=100-200", 416, False)],
)
def test_a_range_of_the_current_version_is_immutable_and_an_unsatisfiable_one_is_not(
    static: Path, byte_range: str, status: int, immutable: bool
) -> None:
    """A part of the file is as fixed as the whole; a 416 (the range past its end) is an
    error response, left to the app's caching rather than kept by caches for a year."""
    (static / "site.css").write_bytes(CONTENT)
    client = make_app(static, SEND_FILE_MAX_AGE_DEFAULT=60).test_client()
    url = client.get("/push?f=site.css").get_data(as_text=True)

    response = get_file(client, url, headers={"Range": byte_range})

    assert response.status_code == status
    assert (response.headers.get("Cache-Control") == IMMUTABLE) is immutable


def test_an_old_version_is_not_immutable_once_the_file_changed(static: Path) -> None:
    path = static / "site.css"
    path.write_bytes(b"old")
    client = make_app(static).test_client()
    old_url = client.get("/push?f=site.css").get_data(as_text=True)

    path.write_bytes(b"new content")

    assert get_file(client, old_url).headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize("enabled", [True, False])
def test_a_page_a_hook_answers_at_a_versioned_url_is_not_immutable(
    static: Path, enabled: bool
) -> None:
    """Flask runs ``before_request`` hooks for static files too: a maintenance page (or a
    sign-in form) one returns at ``/static/app.js?v=<current>`` was served ``public,
    immutable``, and kept by shared caches as the script for a year."""
    (static / "app.js").write_bytes(CONTENT)
    maintenance = {"on": False}

    def closed_for_maintenance() -> str | None:
        return "<h1>Back soon</h1>" if maintenance["on"] else None

    app = make_app(static, before=closed_for_maintenance, FIREHOSE_ENABLED=enabled)
    client = app.test_client()
    url = client.get("/push?f=app.js").get_data(as_text=True)
    assert get_file(client, url).headers["Cache-Control"] == IMMUTABLE

    maintenance["on"] = True
    response = get_file(client, url)

    assert response.get_data() == b"<h1>Back soon</h1>"
    assert "immutable" not in response.headers.get("Cache-Control", "")


@pytest.mark.parametrize("enabled", [True, False])
def test_a_file_a_hook_answers_at_a_versioned_url_is_not_immutable(
    static: Path, tmp_path: Path, enabled: bool
) -> None:
    """A sign-in page a ``before_request`` hook sends from a file carries that file's
    ``Last-Modified``: in a fresh checkout, or a build with fixed mtimes, it is the
    script's, and the page was served ``public, immutable`` at the script's url, kept by
    shared caches for a year. ``send_file`` names the file it sends in
    ``Content-Disposition``: another name is another file."""
    pages = tmp_path / "pages"
    pages.mkdir()
    (static / "app.js").write_bytes(CONTENT)
    (pages / "signin.html").write_bytes(b"<form>sign in</form>")
    for path in (static / "app.js", pages / "signin.html"):
        os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    signed_in = {"yes": True}
    app = make_app(static, FIREHOSE_ENABLED=enabled)

    @app.before_request
    def sign_in_first() -> Response | None:
        return None if signed_in["yes"] else send_from_directory(pages, "signin.html")

    client = app.test_client()
    url = client.get("/push?f=app.js").get_data(as_text=True)
    assert get_file(client, url).headers["Cache-Control"] == IMMUTABLE

    signed_in["yes"] = False
    response = get_file(client, url)

    assert response.headers["Content-Disposition"] == "inline; filename=signin.html"
    assert response.headers["Last-Modified"] == "Tue, 14 Nov 2023 22:13:20 GMT"
    assert "immutable" not in response.headers.get("Cache-Control", "")


@pytest.mark.parametrize("helper", [push_static, static_tag])
def test_a_hook_that_pushes_a_static_file_leaves_a_host_flask_refuses_its_400(
    static: Path, helper: Callable[..., str]
) -> None:
    """Flask has no url adapter for a request whose ``Host`` is outside ``TRUSTED_HOSTS``
    and answers it 400 once every ``before_request`` hook has run. A site-wide hook's
    ``push_static`` asked ``url_for`` for its url, which failed there (AttributeError):
    the client got a 500, and the app's later hooks never ran. Nothing is pushed or
    recorded for it."""
    (static / "site.css").write_bytes(CONTENT)

    def site_wide() -> None:
        helper("site.css")

    app = make_app(static, before=site_wide)
    app.config["TRUSTED_HOSTS"] = ["shop.example"]

    tag_responses_with_a_request_id(app)

    client = app.test_client()
    refused = client.get("/push?f=site.css", base_url="http://evil.test")
    trusted = client.get("/push?f=site.css", base_url="http://shop.example")

    assert (refused.status_code, refused.headers["X-Request-Id"]) == (400, "r1")
    assert "Link" not in refused.headers
    assert "Set-Cookie" not in refused.headers
    assert trusted.status_code == 200
    assert trusted.headers["Link"] == f"<{trusted.get_data(as_text=True)}>; rel=preload; as=style"


def test_a_400_page_for_a_host_flask_refuses_writes_no_static_file(static: Path) -> None:
    """In the 400 Flask answers a ``Host`` outside ``TRUSTED_HOSTS``, ``url_for`` builds
    no url (Flask's own fails there with AttributeError): a page whose ``static_tag``
    asked it became a 500. It is written without the element, and nothing is pushed."""
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static, TRUSTED_HOSTS=["shop.example"])

    @app.errorhandler(400)
    def bad_request(error: Exception) -> tuple[str, int]:
        page = "<p>{{ static_tag('site.css') }}<a href='{{ push_static('site.css') }}'>"
        return render_template_string(page), 400

    response = app.test_client().get("/tag?f=site.css", headers={"Host": "evil.test"})

    assert (response.status_code, response.get_data(as_text=True)) == (400, "<p><a href=''>")
    assert "Link" not in response.headers


@pytest.mark.parametrize("filename", ["café.css", 'q".css', "semi;colon.css", "a b.css"])
@pytest.mark.parametrize("disposition", ["as sent", "dropped by a hook"])
def test_a_file_whose_name_is_quoted_or_dropped_in_content_disposition_is_immutable(
    static: Path, filename: str, disposition: str
) -> None:
    """``send_file`` quotes a name, or writes it ``filename*=UTF-8''...``: read back, it
    is the file's; a hook that drops the header leaves the file told by its time."""
    (static / filename).write_bytes(CONTENT)
    app = make_app(static)
    if disposition == "dropped by a hook":

        @app.after_request
        def drop(response: Response) -> Response:
            del response.headers["Content-Disposition"]
            return response

    client = app.test_client()
    with app.test_request_context():
        url = push_static(filename)

    assert get_file(client, url).headers["Cache-Control"] == IMMUTABLE


@pytest.mark.parametrize("nanoseconds", [0, 999_999_000, 999_999_500, 999_999_999])
def test_a_file_modified_in_the_last_microsecond_of_a_second_is_immutable(
    static: Path, nanoseconds: int
) -> None:
    """``send_file`` writes ``Last-Modified`` from ``st_mtime``, a float: a time within
    half a microsecond of the next second reads as that second. Its whole second was
    compared, so such a file was never served ``immutable``."""
    path = static / "site.css"
    path.write_bytes(CONTENT)
    mtime = 1_700_000_000_000_000_000 + nanoseconds
    os.utime(path, ns=(mtime, mtime))
    client = make_app(static).test_client()
    url = client.get("/push?f=site.css").get_data(as_text=True)

    assert get_file(client, url).headers["Cache-Control"] == IMMUTABLE


def test_a_missing_static_file_is_left_alone(static: Path) -> None:
    response = make_app(static).test_client().get("/static/gone.css?v=0123456789")

    assert response.status_code == 404
    assert "immutable" not in response.headers.get("Cache-Control", "")


def test_immutable_caching_holds_with_the_extension_off(static: Path) -> None:
    (static / "site.css").write_bytes(CONTENT)
    client = make_app(static, FIREHOSE_ENABLED=False).test_client()

    response = client.get("/push?f=site.css")

    assert "Link" not in response.headers
    url = response.get_data(as_text=True)
    assert get_file(client, url).headers["Cache-Control"] == IMMUTABLE


@pytest.mark.parametrize("enabled", [True, False])
def test_a_static_file_dispatched_around_the_wsgi_app_is_immutable(
    static: Path, enabled: bool
) -> None:
    """``app.full_dispatch_request()`` skips the extension's wrapper, which looks for a
    cookie beside the ``Cache-Control`` it wrote: the file is served immutable, not a 500."""
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static, FIREHOSE_ENABLED=enabled)

    with app.test_request_context(f"/static/site.css?v={version(CONTENT)}"):
        response = app.full_dispatch_request()
        response.close()

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == IMMUTABLE


def test_views_are_not_touched(static: Path) -> None:
    (static / "site.css").write_bytes(CONTENT)

    response = make_app(static).test_client().get(f"/push?f=site.css&v={version(CONTENT)}")

    assert "Cache-Control" not in response.headers


def test_a_static_file_gets_no_link_vary_or_digest_from_a_hook_s_pushes(static: Path) -> None:
    """Flask runs ``before_request`` hooks for static files too: a site-wide push from one
    gave each file our ``Link``, ``Vary: Cookie`` (a preloaded file fetched twice) and, for
    a client without the cookie, a digest ``Set-Cookie``; and a 103 to a navigation.
    The hook is registered ahead of the extension, so its push is declared by the time the
    103 is planned: a page not learned yet is hinted it."""
    (static / "site.css").write_bytes(CONTENT)
    (static / "app.js").write_bytes(CONTENT)

    def site_wide() -> None:
        push_static("site.css")

    app = make_app(static, before=site_wide, FIREHOSE_EARLY_HINTS=True)
    admin = Blueprint("admin", __name__, static_folder=str(static), url_prefix="/admin")
    app.register_blueprint(admin)

    sent: list[Any] = []
    server = {"wsgi.early_hints": sent.append}
    for url in (
        f"/static/app.js?v={version(CONTENT)}",
        "/static/app.js",
        "/admin/static/app.js",
    ):
        response = get_file(app.test_client(), url, environ_base=server)
        assert response.status_code == 200
        assert "Link" not in response.headers
        assert "Vary" not in response.headers
        assert "Set-Cookie" not in response.headers
    assert sent == []
    # A page still gets the hook's push: in a 103 before it is learned, and after.
    client = app.test_client()
    page = client.get("/push?f=app.js", environ_base=server)
    site_css = f"</static/site.css?v={version(CONTENT)}>; rel=preload; as=style"
    app_js = f"</static/app.js?v={version(CONTENT)}>; rel=preload; as=script"
    assert page.headers.getlist("Link") == [f"{site_css}, {app_js}"]
    assert "Set-Cookie" in page.headers
    app.test_client().get("/push?f=app.js", environ_base=server)
    assert sent == [[("Link", site_css)], [("Link", f"{site_css}, {app_js}")]]


def test_a_nested_or_subdomain_blueprint_s_static_file_is_a_file_not_a_page(
    static: Path,
) -> None:
    """Flask names a nested blueprint's static endpoint ``parent.child.static`` and its
    blueprint ``parent.child`` (``app.blueprints``), and routes a blueprint registered with
    ``subdomain=`` on that host of ``SERVER_NAME`` alone: their files, found in their own
    folders, get none of the hook's links and no 103, and their current version is
    served immutable; ``static_tag(endpoint=".static")`` in the nested blueprint's view
    names the nested folder's file, under both url prefixes."""
    (static / "site.css").write_bytes(CONTENT)
    child_static, sub_static = static.parent / "child_static", static.parent / "sub_static"
    for folder in (child_static, sub_static):
        folder.mkdir()
        (folder / "part.css").write_bytes(b"part")

    def site_wide() -> None:
        push_static("site.css")

    app = Flask(__name__, static_folder=str(static), subdomain_matching=True)
    app.config.update(SECRET_KEY="static secret", FIREHOSE_EARLY_HINTS=True)
    app.config["SERVER_NAME"] = "site.test"
    app.before_request(site_wide)
    Firehose(app)
    parent = Blueprint("parent", __name__, url_prefix="/parent")
    child = Blueprint("child", __name__, static_folder=str(child_static), url_prefix="/child")

    @child.route("/")
    def child_page() -> str:
        return str(static_tag("part.css", endpoint=".static"))

    parent.register_blueprint(child)
    app.register_blueprint(parent)
    app.register_blueprint(parent, name="again", url_prefix="/again")
    app.register_blueprint(
        Blueprint("sub", __name__, static_folder=str(sub_static), subdomain="media")
    )

    sent: list[Any] = []
    server = {"wsgi.early_hints": sent.append}
    part = f"part.css?v={version(b'part')}"
    for base, url in (
        ("http://site.test", f"/parent/child/child_static/{part}"),
        ("http://site.test", f"/again/child/child_static/{part}"),
        ("http://media.site.test", f"/sub_static/{part}"),
    ):
        response = get_file(app.test_client(), url, base_url=base, environ_base=server)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == IMMUTABLE
        assert "Link" not in response.headers
        assert "Vary" not in response.headers
        assert "Set-Cookie" not in response.headers
    assert sent == []
    for prefix in ("/parent", "/again"):
        page = app.test_client().get(f"{prefix}/child/", base_url="http://site.test")
        url = f"{prefix}/child/child_static/{part}"
        assert page.get_data(as_text=True) == f'<link rel="stylesheet" href="{url}">'
        site_css = f"</static/site.css?v={version(CONTENT)}>; rel=preload; as=style"
        assert page.headers["Link"] == f"{site_css}, <{url}>; rel=preload; as=style"


def test_a_page_served_where_the_static_view_has_no_file_gets_its_links(static: Path) -> None:
    """A single-page app serves its static folder at the root (``static_url_path=""``) and
    its index from the 404 handler at every deep link: the static view matched ``/about``,
    found no file, and the handler's page went out with none of its links, no digest and
    no 103, where ``/``, the same page from a view, had them. The files keep none."""
    (static / "index.html").write_text("<!doctype html><div id=app></div>")
    (static / "app.js").write_bytes(CONTENT)
    app = Flask(__name__, static_folder=str(static), static_url_path="")
    app.config.update(SECRET_KEY="static secret", FIREHOSE_EARLY_HINTS=True)
    Firehose(app)

    @app.before_request
    def site_wide() -> None:
        push_static("app.js")

    @app.errorhandler(404)
    def single_page(error: Exception) -> Response:
        return app.send_static_file("index.html")

    sent: list[Any] = []
    server = {"wsgi.early_hints": sent.append}
    app_js = f"</app.js?v={version(CONTENT)}>; rel=preload; as=script"
    client = app.test_client()
    page = get_file(client, "/about", environ_base=server)
    assert (page.status_code, page.headers.getlist("Link")) == (200, [app_js])
    assert "Set-Cookie" in page.headers
    get_file(app.test_client(), "/about", environ_base=server)
    assert sent == [[("Link", app_js)]]
    for url in ("/index.html", f"/app.js?v={version(CONTENT)}"):
        response = get_file(app.test_client(), url, environ_base=server)
        assert response.status_code == 200
        assert [name for name in ("Link", "Vary", "Set-Cookie") if name in response.headers] == []
    assert sent == [[("Link", app_js)]]


def test_a_blueprint_view_merely_named_static_keeps_its_links(static: Path) -> None:
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static)
    plain = Blueprint("plain", __name__)

    @plain.route("/files/<path:filename>", endpoint="static")
    def own_static(filename: str) -> str:
        return push_static("site.css")

    app.register_blueprint(plain, url_prefix="/plain")
    response = app.test_client().get("/plain/files/x")
    assert response.headers["Link"] == (
        f"</static/site.css?v={version(CONTENT)}>; rel=preload; as=style"
    )


@pytest.mark.parametrize(
    ("endpoint", "serves"),
    [
        ("static", True),
        ("admin.static", True),
        ("plain.static", False),  # a view of the blueprint's own, merely named static
        ("nosuch.static", False),
        ("pushes", False),
        (None, False),  # a request no route matched
    ],
)
def test_serves_static_file_is_flasks_static_view_alone(
    static: Path, endpoint: str | None, serves: bool
) -> None:
    """serves_static_file() answers True or False for any request's endpoint, None (a 404)
    included: it decides which responses are left without the extension's headers."""
    app = blueprint_app(static)
    plain = Blueprint("plain", __name__)

    @plain.route("/files/<path:filename>", endpoint="static")
    def own_static(filename: str) -> str:
        return filename

    app.register_blueprint(plain, url_prefix="/plain")

    assert static_module.serves_static_file(app, endpoint) is serves


def new_visit(app: Flask) -> tuple[list[str], list[str]]:
    """A new client's visit to /push?f=site.css (it holds nothing): the Link values of
    its 103, and of its response."""
    sent: list[Any] = []
    response = app.test_client().get(
        "/push?f=site.css", environ_base={"wsgi.early_hints": sent.append}
    )
    hinted = [value for headers in sent for name, value in headers if name == "Link"]
    return hinted, response.headers.getlist("Link")


def test_a_changed_file_is_not_hinted_at_its_old_url(static: Path) -> None:
    """A learned page's 103 named the file's old versioned url after a deploy changed it:
    a front that pushes from a 103 pushed a url the page no longer uses, and the new url,
    its push slot taken, was written nopush: pushed neither."""
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static, FIREHOSE_EARLY_HINTS=True, FIREHOSE_MAX_PUSHES=1)

    old = f"</static/site.css?v={version(CONTENT)}>; rel=preload; as=style"
    assert new_visit(app) == ([], [old])  # learned
    assert new_visit(app) == ([old], [old])
    (static / "site.css").write_bytes(CONTENT + b"changed")
    new = f"</static/site.css?v={version(CONTENT + b'changed')}>; rel=preload; as=style"
    assert new_visit(app) == ([], [new])  # learned again
    assert new_visit(app) == ([new], [new])


def test_a_file_changed_in_one_app_is_not_hinted_at_its_old_url_for_another_s_copy(
    tmp_path: Path,
) -> None:
    """Two apps in one process (one factory, a static folder each: a tenant's theme) serve
    the same url with the same bytes. Once one app's copy changed, its learned 103 still
    named the old versioned url when the other app had pushed its unchanged copy last: the
    url's file was the other app's, and that file had not changed. A front that pushes from
    a 103 pushed a url the page no longer uses, and the new url, its slot taken, neither."""
    apps = []
    for tenant in ("a", "b"):
        folder = tmp_path / tenant / "static"
        folder.mkdir(parents=True)
        (folder / "site.css").write_bytes(CONTENT)
        apps.append(make_app(folder, FIREHOSE_EARLY_HINTS=True, FIREHOSE_MAX_PUSHES=1))
    changed, unchanged = apps

    old = f"</static/site.css?v={version(CONTENT)}>; rel=preload; as=style"
    assert new_visit(changed) == ([], [old])  # learned
    assert new_visit(unchanged) == ([], [old])  # learned, and its file pushed last
    (tmp_path / "a" / "static" / "site.css").write_bytes(CONTENT + b"changed")
    new = f"</static/site.css?v={version(CONTENT + b'changed')}>; rel=preload; as=style"
    assert new_visit(changed) == ([], [new])  # learned again
    assert new_visit(changed) == ([new], [new])
    assert new_visit(unchanged) == ([old], [old])  # its own file is unchanged


def theme_app(theme: Path) -> Flask:
    """An app serving /static/ from its blueprint ``theme``'s folder (none of its own),
    whose /push pushes site.css from it."""
    app = Flask(__name__, static_folder=None)
    app.config.update(SECRET_KEY="static secret", FIREHOSE_EARLY_HINTS=True)
    app.register_blueprint(
        Blueprint("theme", __name__, static_folder=str(theme), static_url_path="/static")
    )
    Firehose(app)
    app.add_url_rule("/push", "push", lambda: push_static("site.css", endpoint="theme.static"))
    return app


def apps_sharing_a_static_url(tmp_path: Path) -> tuple[Path, Flask, Flask]:
    """This app's static folder, this app (its /static/ its own, Early Hints on) and
    another (:func:`theme_app`), each folder holding site.css of the same bytes."""
    own = tmp_path / "own" / "static"
    theme = tmp_path / "theme"
    for folder in (own, theme):
        folder.mkdir(parents=True)
        (folder / "site.css").write_bytes(CONTENT)
    return own, make_app(own, FIREHOSE_EARLY_HINTS=True), theme_app(theme)


def hinted(app: Flask) -> list[str]:
    """The Link values of the 103 a new client's visit to /push?f=site.css is sent."""
    return new_visit(app)[0]


def test_a_url_another_app_serves_from_a_blueprint_leaves_this_app_s_hints_alone(
    tmp_path: Path,
) -> None:
    """One app serves /static/ from its own folder, another from a blueprint's: the other
    app's push of the url says nothing of this app's file; its learned 103 is still sent."""
    _, app, other = apps_sharing_a_static_url(tmp_path)

    link = f"</static/site.css?v={version(CONTENT)}>; rel=preload; as=style"
    assert hinted(app) == []  # learned
    assert hinted(other) == []  # learned, its blueprint's file pushed last at that url
    assert hinted(app) == [link]
    assert hinted(other) == [link]


def test_a_file_changed_in_one_app_is_not_hinted_at_its_old_url_for_another_s_blueprint(
    tmp_path: Path,
) -> None:
    """One app serves /static/ from its own folder, another from a blueprint's, with the
    same bytes. The process kept one entry per url, the last push's: once the other app
    pushed the url, its endpoint (``theme.static``, none of this app's) said nothing of
    this app's file, so this app's copy changed and its learned 103 still named the old
    url. Each app now checks the urls it pushed itself."""
    own, app, other = apps_sharing_a_static_url(tmp_path)

    old = f"</static/site.css?v={version(CONTENT)}>; rel=preload; as=style"
    new = f"</static/site.css?v={version(CONTENT + b'changed')}>; rel=preload; as=style"
    assert hinted(app) == []  # learned
    (own / "site.css").write_bytes(CONTENT + b"changed")
    assert hinted(other) == []  # learned: the old bytes' url pushed last, from its blueprint
    assert hinted(app) == []  # learned again
    assert hinted(app) == [new]
    assert hinted(other) == [old]  # its own file is unchanged


def test_another_app_s_blueprint_of_the_same_name_leaves_this_app_s_hints_alone(
    tmp_path: Path,
) -> None:
    """Both apps have a blueprint named ``theme``: this one's serves /theme/ (a file of
    its own named site.css), the other's /static/. Once the other app pushed
    /static/site.css, this app looked for the url's file in its own ``theme`` folder,
    found other bytes, and dropped its learned 103 at every visit after the other's."""
    _, app, other = apps_sharing_a_static_url(tmp_path)
    own_theme = tmp_path / "own" / "theme"
    own_theme.mkdir()
    (own_theme / "site.css").write_bytes(b"this app's theme")
    app.register_blueprint(
        Blueprint("theme", __name__, static_folder=str(own_theme), static_url_path="/theme")
    )

    link = f"</static/site.css?v={version(CONTENT)}>; rel=preload; as=style"
    assert hinted(app) == []  # learned
    assert hinted(other) == []  # learned, its blueprint's file pushed last at that url
    assert hinted(app) == [link]
    assert hinted(other) == [link]
    assert hinted(app) == [link]


@pytest.mark.parametrize("helper", [push_static, static_tag])
def test_a_static_file_is_learned_for_the_103_unless_pushed_with_learn_false(
    static: Path, helper: Callable[..., object]
) -> None:
    """Both helpers learn by default, as push() does, and pass learn=False on to it: a
    page's static files are hinted to its next visitor, a per-user one is not."""
    (static / "site.css").write_bytes(CONTENT)
    (static / "app.js").write_bytes(CONTENT)
    app = make_app(static, FIREHOSE_EARLY_HINTS=True)

    @app.route("/page")
    def page() -> str:
        helper("site.css")
        helper("app.js", learn=False)
        return "page"

    def hinted() -> list[str]:
        sent: list[Any] = []
        app.test_client().get("/page", environ_base={"wsgi.early_hints": sent.append})
        return [value for headers in sent for name, value in headers if name == "Link"]

    assert hinted() == []  # learned
    assert hinted() == [f"</static/site.css?v={version(CONTENT)}>; rel=preload; as=style"]


def test_a_page_learned_before_a_file_changed_is_hinted_its_declared_links(
    static: Path,
) -> None:
    """What the page learned is stale once its file changed: the 103 is then made as for
    a page not learned yet, from what its view declares, not left empty."""
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static, FIREHOSE_EARLY_HINTS=True)
    declared = "</declared.js>; rel=preload; as=script"

    @app.route("/page")
    @Firehose.hints("/declared.js", as_="script")
    def page() -> str:
        return push_static("site.css")

    def hinted() -> list[str]:
        sent: list[Any] = []
        app.test_client().get("/page", environ_base={"wsgi.early_hints": sent.append})
        return [value for headers in sent for name, value in headers if name == "Link"]

    assert hinted() == [declared]  # not learned yet
    (static / "site.css").write_bytes(CONTENT + b"changed")
    assert hinted() == [declared]  # learned, but stale
    new = f"</static/site.css?v={version(CONTENT + b'changed')}>; rel=preload; as=style"
    assert hinted() == [f"{declared}, {new}"]


# -- a static file declared by name: @firehose.hints_static ------------------------------


def first_visit(app: Flask, path: str, **kwargs: Any) -> tuple[list[str], TestResponse]:
    """A new client's navigation to ``path``: the Link values of its 103, and its response."""
    sent: list[Any] = []
    client = app.test_client()
    response = client.get(path, environ_base={"wsgi.early_hints": sent.append}, **kwargs)
    return [value for headers in sent for name, value in headers if name == "Link"], response


def declaring_app(static: Path) -> Flask:
    """A page declaring site.css by name, whose template writes the file's element."""
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static, FIREHOSE_EARLY_HINTS=True)

    @app.route("/page")
    @Firehose.hints_static("site.css")
    def page() -> str:
        return render_template_string("{{ static_tag('site.css') }}")

    return app


@pytest.mark.parametrize("script_root", ["", "/shop"])
def test_a_static_file_declared_by_name_is_hinted_at_the_url_static_tag_writes(
    static: Path, script_root: str
) -> None:
    """``@firehose.hints(url)`` takes a url fixed as the module loads, never the versioned
    one ``static_tag`` writes: a page's first 103 named ``/static/site.css`` and the page
    ``/static/site.css?v=...``, two urls (the browser fetched the file twice, the first
    copy revalidated, never immutable), and under a prefix a url the app does not serve."""
    app = declaring_app(static)

    hinted, response = first_visit(app, "/page", base_url=f"http://localhost{script_root}")

    element = re.fullmatch(r'<link rel="stylesheet" href="(.+)">', response.get_data(as_text=True))
    assert element is not None
    [link] = hinted  # on the page's very first request
    in_103 = re.fullmatch(r"<(.+)>; rel=preload; as=style", link)
    assert in_103 is not None
    assert in_103.group(1) == element.group(1)
    assert element.group(1) == f"{script_root}/static/site.css?v={version(CONTENT)}"
    assert response.headers["Link"] == link


def test_a_changed_declared_file_is_hinted_and_linked_at_its_new_version(static: Path) -> None:
    app = declaring_app(static)
    old = f"</static/site.css?v={version(CONTENT)}>; rel=preload; as=style"
    assert first_visit(app, "/page")[0] == [old]  # declared
    assert first_visit(app, "/page")[0] == [old]  # learned

    (static / "site.css").write_bytes(CONTENT + b"changed")
    hinted, response = first_visit(app, "/page")

    new = f"</static/site.css?v={version(CONTENT + b'changed')}>; rel=preload; as=style"
    assert hinted == [new]
    assert response.headers["Link"] == new


@pytest.mark.parametrize(("flags", "keywords"), NOMODULE_SPELLINGS)
def test_a_legacy_bundle_declared_by_name_is_hinted_and_linked_nowhere(
    static: Path, flags: tuple[str, ...], keywords: dict[str, Any]
) -> None:
    """A ``nomodule`` script is declared as ``push_static`` links it: nowhere. Every
    browser that runs modules skips it; a preload in the 103 or the page's ``Link`` would
    have each of them fetch it, and a push proxy push it, for nothing."""
    (static / "legacy.js").write_bytes(CONTENT)
    app = make_app(static, FIREHOSE_EARLY_HINTS=True)

    @app.route("/page")
    @Firehose.hints_static("legacy.js", *flags, **keywords)
    def page() -> str:
        return "page"

    for _ in range(2):  # nor once the page has been learned
        hinted, response = first_visit(app, "/page")
        assert hinted == []
        assert "Link" not in response.headers


def test_a_static_file_is_declared_by_name_wherever_hints_declares_a_url(static: Path) -> None:
    """On a blueprint's view (its own folder, by ``".static"``), on a class-based view's
    class and on a ``MethodView``'s method, as ``@firehose.hints`` declares a url."""
    (static / "site.css").write_bytes(CONTENT)
    admin_static = static.parent / "admin_static"
    admin_static.mkdir()
    (admin_static / "admin.css").write_bytes(b"admin")
    app = make_app(static, FIREHOSE_EARLY_HINTS=True)
    admin = Blueprint(
        "admin", __name__, static_folder=str(admin_static), static_url_path="/assets"
    )

    @admin.route("/")
    @Firehose.hints_static("admin.css", endpoint=".static")
    def home() -> str:
        return "admin"

    app.register_blueprint(admin, url_prefix="/admin")

    @Firehose.hints_static("site.css")
    class OnTheClass(View):
        def dispatch_request(self) -> str:
            return "class"

    class OnAMethod(MethodView):
        @Firehose.hints_static("site.css")
        def get(self) -> str:
            return "get"

        def post(self) -> str:
            return "post"

    app.add_url_rule("/on-the-class", view_func=OnTheClass.as_view("on_the_class"))
    app.add_url_rule("/on-a-method", view_func=OnAMethod.as_view("on_a_method"))
    css = f"</static/site.css?v={version(CONTENT)}>; rel=preload; as=style"
    admin_css = f"</admin/assets/admin.css?v={version(b'admin')}>; rel=preload; as=style"

    for path, expected in (("/admin/", admin_css), ("/on-the-class", css), ("/on-a-method", css)):
        hinted, response = first_visit(app, path)
        assert (hinted, response.headers["Link"]) == ([expected], expected), path
    assert "Link" not in app.test_client().post("/on-a-method").headers


def test_a_static_file_declared_with_learn_false_is_linked_never_hinted(static: Path) -> None:
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static, FIREHOSE_EARLY_HINTS=True)

    @app.route("/page")
    @Firehose.hints_static("site.css", learn=False)
    def page() -> str:
        return "page"

    for _ in range(2):  # nor once the page has been learned
        hinted, response = first_visit(app, "/page")
        assert hinted == []
        assert response.headers["Link"] == (
            f"</static/site.css?v={version(CONTENT)}>; rel=preload; as=style"
        )


@pytest.mark.parametrize(
    ("arguments", "keywords", "error", "message"),
    [
        pytest.param((3,), {}, ValueError, "filename must be a str", id="a number"),
        pytest.param(
            ("site.css",), {"endpoint": None}, ValueError, "endpoint must be a str", id="None"
        ),
        pytest.param(("notes.txt",), {}, ValueError, r"'notes\.txt'.*as_=", id="no kind"),
        pytest.param(("site.css",), {"version": "1"}, TypeError, "version=", id="a version"),
        pytest.param(("site.css",), {"title": "a,b"}, ValueError, "','", id="a comma"),
        pytest.param(("site.css",), {"media": "a\nb"}, ValueError, "a header cannot", id="LF"),
        pytest.param(("site.css",), {"learn": 1}, ValueError, "learn", id="learn=1"),
    ],
)
def test_what_push_static_would_refuse_is_refused_as_the_module_loads(
    arguments: tuple[Any, ...], keywords: dict[str, Any], error: type[Exception], message: str
) -> None:
    """No app, no request: the arguments alone, as ``@firehose.hints`` checks ``push()``'s."""
    with pytest.raises(error, match=message):
        Firehose.hints_static(*arguments, **keywords)


@pytest.mark.parametrize(
    ("arguments", "keywords"),
    [
        pytest.param((3,), {}, id="a number"),
        pytest.param(("site.css",), {"endpoint": None}, id="None"),
        pytest.param(("notes.txt",), {}, id="no kind"),
        pytest.param(("site.css",), {"version": "1"}, id="a version"),
        pytest.param(("site.css",), {"learn": 1}, id="learn=1"),
    ],
)
@pytest.mark.parametrize("helper", ["hints_static", "push_static", "static_tag"])
def test_an_argument_refused_names_the_call_written(
    static: Path, helper: str, arguments: tuple[Any, ...], keywords: dict[str, Any]
) -> None:
    """The three read their arguments alike, and each error named ``push_static()``: a view
    decorated with ``hints_static(...)`` failed to import, or a template's ``static_tag``
    to render, on a message about a call the app never wrote."""
    (static / "site.css").write_bytes(CONTENT)
    (static / "notes.txt").write_bytes(CONTENT)
    call = {
        "hints_static": Firehose.hints_static,
        "push_static": push_static,
        "static_tag": static_tag,
    }[helper]
    with make_app(static).test_request_context(), pytest.raises((ValueError, TypeError)) as raised:
        call(*arguments, **keywords)
    said = str(raised.value)
    assert "push()" not in said, said
    assert helper == "push_static" or "push_static" not in said, said
    if "learn" not in keywords:  # learn is every call's, push()'s too: named by itself
        assert f"{helper}()" in said, said


def test_an_argument_hints_refuses_names_no_other_call() -> None:
    """``@firehose.hints`` reads its arguments as ``push()`` does: ``learn=1`` was said to
    be ``push()``'s."""
    with pytest.raises(ValueError) as raised:
        Firehose.hints("/static/site.css", as_="style", learn=1)  # type: ignore[arg-type]
    assert "push()" not in str(raised.value)
    assert "learn must be True or False, got 1" in str(raised.value)


@pytest.mark.parametrize(
    ("filename", "endpoint", "message"),
    [
        pytest.param("sit.css", "static", "no static file 'sit.css'", id="a missing file"),
        pytest.param("site.css", "push", "serves the static endpoints", id="a view's endpoint"),
        pytest.param("site.css", "nosuch.static", "no blueprint 'nosuch'", id="no blueprint"),
    ],
)
@pytest.mark.parametrize("helper", ["hints_static", "push_static", "static_tag"])
def test_a_file_or_endpoint_refused_in_a_request_names_the_call_written(
    static: Path,
    helper: str,
    filename: str,
    endpoint: str,
    message: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """What only a request can tell, a file the folder lacks or an endpoint that serves
    none, said ``push_static()`` too: a template's ``static_tag('sit.css')`` failed to
    render on "push_static(): no static file 'sit.css'", a call the app never wrote, and
    a declaration's log line named both calls."""
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static)
    if helper == "hints_static":

        @app.route("/page")
        @Firehose.hints_static(filename, endpoint=endpoint)
        def page() -> str:
            return "page"

        with caplog.at_level(logging.ERROR, logger="firehose_digest"):
            assert app.test_client().get("/page").status_code == 200
        [told] = [record.getMessage() for record in caplog.records]
    else:
        call = {"push_static": push_static, "static_tag": static_tag}[helper]
        with app.test_request_context(), pytest.raises(ValueError) as raised:
            call(filename, endpoint=endpoint)
        told = str(raised.value)
    assert f"{helper}(): {message}" in told or f"{helper}() {message}" in told, told
    assert helper == "push_static" or "push_static" not in told, told


@pytest.mark.parametrize(
    ("filename", "endpoint", "message"),
    [
        pytest.param("sit.css", "static", r"no static file 'sit\.css'", id="a missing file"),
        pytest.param("site.css", "push", "not 'push'", id="a view's endpoint"),
        pytest.param("site.css", "nosuch.static", "no blueprint 'nosuch'", id="no blueprint"),
    ],
)
def test_a_declared_file_the_app_lacks_is_logged_and_left_out(
    static: Path, filename: str, endpoint: str, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A declaration the app cannot make a link of (a file a deploy lost, a wrong
    endpoint) costs no page: its view is served without it, with or without a 103, and an
    ERROR log line, once, says which view declared what and the reason. A
    page that uses the file itself (``static_tag``) still raises, as it did before."""
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static, FIREHOSE_EARLY_HINTS=True)

    @app.route("/page")
    @Firehose.hints_static(filename, endpoint=endpoint)
    @Firehose.hints("/static/other.css", as_="style")
    def page() -> str:
        return "page"

    with caplog.at_level(logging.ERROR, logger="firehose_digest"):
        for _ in range(2):
            hinted, response = first_visit(app, "/page", headers={"Accept": "text/html"})
            assert response.status_code == 200
            assert hinted == ["</static/other.css>; rel=preload; as=style"]
            assert response.headers["Link"] == "</static/other.css>; rel=preload; as=style"
    [told] = [record for record in caplog.records if "declares" in record.getMessage()]
    assert told.levelno == logging.ERROR
    assert told.getMessage().startswith(
        f"firehose: view 'page' declares {filename!r} with hints_static()"
    )
    assert re.search(message, told.getMessage())


def test_a_declared_file_removed_while_the_app_runs_is_its_page_s_error(static: Path) -> None:
    """As ``push_static("site.css")`` in the view: the app's files, not the client's request."""
    app = declaring_app(static)
    app.testing = True
    first_visit(app, "/page")

    (static / "site.css").unlink()

    with pytest.raises(ValueError, match=r"no static file 'site\.css'"):
        app.test_client().get("/page")


@pytest.mark.parametrize(
    ("headers", "keywords", "root"),
    [
        pytest.param({"X-Forwarded-Prefix": "//["}, {}, "//[", id="a prefix urlsplit refuses"),
        pytest.param(
            {"X-Forwarded-Host": "[1:2]"}, {"_external": True}, "http://[1:2]", id="a host"
        ),
    ],
)
def test_a_declared_file_s_url_from_what_a_client_sent_is_linked_never_a_500(
    static: Path, headers: dict[str, str], keywords: dict[str, Any], root: str
) -> None:
    """Made per request, the url holds the script root and host the request says, which a
    client chooses through ProxyFix: linked as ``push_static`` links it, never an error the
    page without the declaration would not give."""
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static, FIREHOSE_EARLY_HINTS=True)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_prefix=1, x_host=1)  # type: ignore[method-assign]

    @app.route("/page")
    @Firehose.hints_static("site.css", **keywords)
    def page() -> str:
        return "page"

    _, response = first_visit(app, "/page", headers=headers)

    assert response.status_code == 200
    # Not pushed: no proxy pushes it at the path the browser asks for (push() decides).
    assert response.headers["Link"] == (
        f"<{root}/static/site.css?v={version(CONTENT)}>; rel=preload; as=style; nopush"
    )


def test_a_learned_hint_is_current_while_its_file_is_unchanged(static: Path) -> None:
    """versions_current() at each edge: the file unchanged, changed, gone; a key no
    push_static() pushed (a plain push, a stand-in's empty key) is current."""
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static)
    url = f"/static/site.css?v={version(CONTENT)}"
    assert app.test_client().get("/push?f=site.css").get_data(as_text=True) == url
    key = f"{url}\n{version(CONTENT)}"
    assert static_module.versions_current(app, [key, "/plain.css", ""]) is True
    (static / "site.css").write_bytes(CONTENT + b"changed")
    assert static_module.versions_current(app, [key]) is False
    (static / "site.css").unlink()
    assert static_module.versions_current(app, ["/plain.css", key]) is False


def test_each_static_file_a_page_pushed_is_checked_for_a_change(static: Path) -> None:
    """Not only the last file pushed is remembered: a page's stylesheet changed by a deploy
    made the page's learned hints stale though its script, pushed after it, is unchanged."""
    (static / "site.css").write_bytes(CONTENT)
    (static / "app.js").write_bytes(CONTENT)
    app = make_app(static)

    @app.route("/page")
    def page() -> str:
        return push_static("site.css") + push_static("app.js")

    app.test_client().get("/page")
    css_key = resource_key(f"/static/site.css?v={version(CONTENT)}", version(CONTENT))
    js_key = resource_key(f"/static/app.js?v={version(CONTENT)}", version(CONTENT))
    assert static_module.versions_current(app, [css_key, js_key]) is True
    (static / "site.css").write_bytes(CONTENT + b"changed")
    assert static_module.versions_current(app, [css_key]) is False
    assert static_module.versions_current(app, [js_key]) is True


def pushed_files(app: Flask) -> static_module._PushedFiles:
    """The versioned urls ``app`` pushed, with the bytes counted for them."""
    return static_module._pushed_files[app]


def test_the_pushed_files_are_bounded(static: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The files pushed are remembered up to MAX_VERSIONED_FILES, then forgotten and
    remembered again from the next push: the last file pushed is still checked."""
    monkeypatch.setattr(static_module, "MAX_VERSIONED_FILES", 4)
    app = make_app(static)
    with app.test_request_context():
        for n in range(10):
            (static / f"{n}.css").write_bytes(b"%d" % n)
            push_static(f"{n}.css")
            assert len(pushed_files(app).files) <= 4
    last = resource_key(f"/static/9.css?v={version(b'9')}", version(b"9"))
    (static / "9.css").write_bytes(b"changed")
    assert static_module.versions_current(app, [last]) is False


def test_the_pushed_files_stay_within_their_bytes_however_a_client_spells_the_name(
    static: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/performance.md: the versioned urls pushed are remembered beside the names
    they were made from "for the same bound", within 1 MiB, a bound that "only guards
    against a view passing request data as the filename". The url keeps the name as the
    view passed it (``./x/../app.css`` is ``app.css`` to ``safe_join`` but not to
    ``url_for``), so each spelling a client sends is an entry as long as its query: with
    3,500-character names (gunicorn takes a request line of up to 4,094 bytes) 600
    requests kept 2.2 MB, and 4,096 would keep about 15 MB per process."""
    (static / "app.css").write_bytes(CONTENT)
    app = make_app(static)
    client = app.test_client(use_cookies=False)
    for n in range(600):
        name = "./" * 1740 + f"{n}/../app.css"
        assert client.get("/push", query_string={"f": name}).status_code == 200

    pushed = pushed_files(app).files
    kept = sys.getsizeof(pushed) + sum(
        sys.getsizeof(key) + sys.getsizeof(file) + sum(map(sys.getsizeof, file))
        for key, file in pushed.items()
    )
    assert kept <= 1 << 20, f"{len(pushed)} urls and paths kept in {kept} bytes"


def test_pushed_files_that_fill_their_bytes_exactly_are_kept_and_one_byte_more_empties(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The map of pushed files at MAX_PUSHED_FILES_BYTES exactly keeps every entry; an
    entry one byte past it empties the map first, and is kept alone."""
    app = Flask(__name__)
    entries = [
        (resource_key(f"/static/{n}.css?v=0123456789", "0123456789"), ("static", f"{n}.css"))
        for n in range(2)
    ]
    sizes = [static_module._pushed_file_size(key, file) for key, file in entries]
    for room, kept in [(0, 2), (-1, 1)]:
        monkeypatch.setattr(static_module, "MAX_PUSHED_FILES_BYTES", sum(sizes[:2]) + room)
        static_module._pushed_files[app] = static_module._PushedFiles()
        for key, file in entries[:2]:
            static_module._remember_pushed_file(app, key, file)
        assert list(pushed_files(app).files) == [key for key, _ in entries[2 - kept : 2]]
        assert pushed_files(app).size == sum(sizes[2 - kept : 2])


@pytest.mark.parametrize("room", [0, -1], ids=["exactly its size", "one byte less"])
def test_a_pushed_file_as_large_as_the_bound_is_kept_and_one_larger_is_not(
    monkeypatch: pytest.MonkeyPatch, room: int
) -> None:
    """An entry that takes the whole of MAX_PUSHED_FILES_BYTES is kept (in place of the
    others); one a byte larger is not, and the entries already kept stay."""
    app = Flask(__name__)
    small = (resource_key("/static/a.css?v=0123456789", "0123456789"), ("static", "a.css"))
    large = (resource_key("/static/large.css?v=0123456789", "0123456789"), ("static", "l.css"))
    size = static_module._pushed_file_size(*large)
    monkeypatch.setattr(static_module, "MAX_PUSHED_FILES_BYTES", size + room)
    static_module._pushed_files[app] = static_module._PushedFiles()
    static_module._remember_pushed_file(app, *small)
    static_module._remember_pushed_file(app, *large)
    assert pushed_files(app).files == dict([large] if room == 0 else [small])


def test_a_pushed_file_larger_than_the_bound_on_its_own_is_not_kept(static: Path) -> None:
    """An entry larger than MAX_PUSHED_FILES_BYTES alone (a name a client posted, which
    the url keeps as passed) emptied the map and was kept, past its bound: the name twice,
    in the url and as itself. It is not kept; the entries kept stay."""
    (static / "app.css").write_bytes(CONTENT)
    app = make_app(static)
    name = "./" * (static_module.MAX_PUSHED_FILES_BYTES // 4) + "app.css"
    with app.test_request_context():
        push_static("app.css")
        kept = dict(pushed_files(app).files)
        url = push_static(name)
    assert url.endswith(f"app.css?v={version(CONTENT)}")
    pushed = pushed_files(app)
    assert pushed.files == kept
    assert pushed.size <= static_module.MAX_PUSHED_FILES_BYTES


def test_the_pushed_files_count_each_replacement_under_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An app whose static url a blueprint's ``static_url_path`` names too, its views
    pushing the files from both endpoints, replaces one's entry with the other's at each
    url. Two requests replacing entries at once each read the count of bytes held, then
    stored their own update over the other's: the count drifted from what the entries
    hold, and with it the 1 MiB bound. Each thread waits for the other once it has read
    the entry it replaces (at most half a second: where a lock keeps them apart, the
    first waits alone)."""
    keys = [resource_key(f"/static/{n}.css?v=0123456789", "0123456789") for n in range(2)]
    before = {key: ("static", f"{n}.css") for n, key in enumerate(keys)}
    counted = sum(static_module._pushed_file_size(key, file) for key, file in before.items())
    app = Flask(__name__)
    static_module._pushed_files[app] = static_module._PushedFiles(dict(before), counted)
    both_read = threading.Barrier(2, timeout=0.5)
    size_of = static_module._pushed_file_size

    def sized_once_both_read(key: str, file: tuple[str, str]) -> int:
        if file == before[key]:  # the entry replaced
            with contextlib.suppress(threading.BrokenBarrierError):
                both_read.wait()
        return size_of(key, file)

    monkeypatch.setattr(static_module, "_pushed_file_size", sized_once_both_read)
    run_in_threads(
        *(
            functools.partial(
                static_module._remember_pushed_file, app, key, ("theme.static", name)
            )
            for key, (_, name) in before.items()
        ),
        interleave=False,
    )
    pushed = pushed_files(app).files
    assert pushed == {key: ("theme.static", name) for key, (_, name) in before.items()}
    assert pushed_files(app).size == sum(map(size_of, pushed, pushed.values()))


def test_files_replaced_at_their_urls_stay_within_what_the_pushed_files_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An app pushing the same urls and content from two static endpoints (its own
    folder, and a blueprint's whose ``static_url_path`` is the app's) replaces one's
    entry with the other's at each url on every push. A replacement deleted the url's
    key and added it again, and a dict whose keys come and go keeps a table of up to six
    times its live entries: 2,732 urls grew 33 KB past their count of a DICT_SLOT each
    (tracemalloc). A file replaced now takes its entry's place."""
    live = 2732  # 2,731 kept when a key comes back: 3 * 2,731 is just past 8,192
    monkeypatch.setattr(static_module, "MAX_VERSIONED_FILES", live)
    app = Flask(__name__)
    static_module._pushed_files[app] = pushed = static_module._PushedFiles()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for turn, endpoint in enumerate(("static", "theme.static", "static", "theme.static")):
            for n in range(live):
                key = resource_key(f"/static/site-{n:06}.css?v=0123456789", "0123456789")
                static_module._remember_pushed_file(app, key, (endpoint, f"site-{n:06}.css"))
                # Exactly at the bound a replacement keeps every other url.
                assert len(pushed.files) == (live if turn else n + 1)
            grown = tracemalloc.get_traced_memory()[0] - before
            assert grown <= pushed.size, f"grew by {grown:,} bytes"
    finally:
        tracemalloc.stop()
    assert len(pushed.files) == live


def test_a_file_replaced_as_it_is_sent_is_not_immutable_by_another_request_s_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rolling deploy: a page from a host already deployed names site.css by its new
    version, and the request for it reaches this host as its static view opens the old
    file; the new one is renamed into place before the response is decided, which hashes
    it: the new version, as asked. Another request meanwhile read the old file, and
    stored its version after this one's. The old bytes must not be served for a year
    under the new url: whether the response is the file hashed is asked of the stamp that
    hash read, not of whatever the shared cache holds by then (the other request's, whose
    ``Last-Modified`` the old bytes have).

    The other request's store is held until this one's is made, then made before this
    one goes on: the interleaving of two threads, forced."""
    folder = tmp_path / "static"
    folder.mkdir()
    site, deployed = folder / "site.css", tmp_path / "site.css.new"
    site.write_bytes(b"body { color: red }")
    deployed.write_bytes(b"body { color: blue }")
    os.utime(site, (1_600_000_000, 1_600_000_000))  # each settled, a day apart
    os.utime(deployed, (1_600_086_400, 1_600_086_400))
    new_version = hashlib.blake2b(deployed.read_bytes(), digest_size=5).hexdigest()
    other_read, this_stored, other_stored = (threading.Event() for _ in range(3))

    class Interleaved(dict[str, Any]):
        def __setitem__(self, path: str, known: Any) -> None:
            if threading.current_thread() is threading.main_thread():
                super().__setitem__(path, known)
                this_stored.set()
                assert other_stored.wait(10)
            else:
                other_read.set()  # the old file read, its version not stored yet
                assert this_stored.wait(10)
                super().__setitem__(path, known)
                other_stored.set()

    monkeypatch.setattr(static_module, "_versions", Interleaved())
    other = threading.Thread(target=file_version, args=(str(site),))
    other.start()
    assert other_read.wait(10)
    app = Flask(__name__, static_folder=str(folder))
    Firehose(app)

    @app.after_request
    def deploy(response: Response) -> Response:  # runs before the extension's step
        os.replace(deployed, site)
        return response

    with app.test_client() as client:
        response = client.get(f"/static/site.css?v={new_version}")
        body = response.get_data()
        response.close()
    other.join()
    assert body == b"body { color: red }"  # sent from the file the view opened
    assert response.headers.get("Cache-Control") != IMMUTABLE


@pytest.mark.parametrize("enabled", [True, False], ids=["push on", "push off"])
def test_a_file_replaced_as_it_is_sent_with_the_same_mtime_is_not_immutable(
    tmp_path: Path, enabled: bool
) -> None:
    """The rolling deploy above, of a build with fixed mtimes (SOURCE_DATE_EPOCH, Nix's
    1): the new file is renamed into place after the static view opened the old one, and
    has its ``Last-Modified``. The response is the old bytes, which must not be kept a year
    under the new version's url."""
    folder = tmp_path / "static"
    folder.mkdir()
    site, deployed = folder / "site.css", tmp_path / "site.css.new"
    site.write_bytes(b"/* 1.2.3 */ body { color: red }")
    deployed.write_bytes(b"/* 1.2.4 */ body { color: red }")
    for built in (site, deployed):
        os.utime(built, (1_600_000_000, 1_600_000_000))
    new_version = version(deployed.read_bytes())
    app = Flask(__name__, static_folder=str(folder))
    app.config["FIREHOSE_ENABLED"] = enabled
    Firehose(app)

    @app.after_request
    def deploy(response: Response) -> Response:  # runs before the extension's step
        if deployed.exists():
            os.replace(deployed, site)
        return response

    client = app.test_client()
    with client.get(f"/static/site.css?v={new_version}") as sent_old:
        assert sent_old.get_data() == b"/* 1.2.3 */ body { color: red }"
        assert sent_old.headers["Cache-Control"] == "no-cache"  # Flask's default
    # The next request is sent the new file, which is that url's for good.
    with client.get(f"/static/site.css?v={new_version}") as sent_new:
        assert sent_new.get_data() == b"/* 1.2.4 */ body { color: red }"
        assert sent_new.headers["Cache-Control"] == IMMUTABLE


@pytest.mark.parametrize(
    "declare",
    [
        lambda: Firehose.hints("/static/app.js", as_="script", nonce="fixed"),
        lambda: Firehose.hints("/static/app.js", "nonce=fixed", as_="script"),
        lambda: Firehose.hints_static("site.css", nonce="fixed"),
    ],
    ids=["hints", "hints, Flask-Firehose's flag", "hints_static"],
)
def test_a_declaration_with_a_nonce_is_refused(declare: Callable[[], object]) -> None:
    """A CSP nonce is new for each response, and a declaration is made once, as the module
    loads: one with a nonce would write the same value on every response."""
    with pytest.raises(ValueError, match="nonce"):
        declare()


@pytest.mark.parametrize(
    ("declare", "named"),
    [
        (lambda: Firehose.hints("/static/app.js", as_="script", nonce=True), "hints"),
        (lambda: Firehose.hints("/static/app.js", "nonce", as_="script"), "hints"),
        (lambda: Firehose.hints("/static/app.js", "NONCE", as_="script"), "hints"),
        (lambda: Firehose.hints_static("app.js", nonce=True), "hints_static"),
        (lambda: Firehose.hints_static("app.js", "nonce"), "hints_static"),
    ],
    ids=[
        "hints, True",
        "hints, a flag",
        "hints, a flag in capitals",
        "hints_static, True",
        "hints_static, a flag",
    ],
)
def test_a_declaration_with_a_bare_nonce_is_refused_as_one_with_a_value(
    declare: Callable[[], object], named: str
) -> None:
    """``nonce=""`` was refused, but ``nonce=True`` (the bare flag, as ``push()`` writes
    it) was declared, and every response said ``; nonce``: an empty nonce, which no
    policy allows, where the app meant the response's. Either is the same mistake, named
    by the decorator that made it."""
    with pytest.raises(ValueError, match=rf"^{named}\(\): a nonce is made for each response"):
        declare()


@pytest.mark.parametrize(
    "write",
    [
        lambda: push("/static/app.js", as_="script", nonce=True),
        lambda: push("/static/app.js", "nonce", as_="script"),
        lambda: push("/static/app.js", "NONCE", as_="script"),
        lambda: push_static("app.js", nonce=True),
        lambda: push_static("app.js", "nonce"),
        lambda: static_tag("app.js", nonce=True),
        lambda: static_tag("app.js", "nonce"),
    ],
    ids=[
        "push, True",
        "push, a flag",
        "push, a flag in capitals",
        "push_static, True",
        "push_static, a flag",
        "static_tag, True",
        "static_tag, a flag",
    ],
)
def test_a_bare_nonce_is_refused_saying_what_to_give(
    static: Path, write: Callable[[], object]
) -> None:
    """``nonce=True`` (or the flag ``"nonce"``) was written ``; nonce`` on the Link, an
    empty nonce, which no policy allows, and static_tag's element got no nonce at all:
    the app meant the response's. Refused in a view as outside one, as any bad argument."""
    (static / "app.js").write_bytes(CONTENT)
    app = make_app(static, SERVER_NAME="example.test")  # url_for outside a request
    for context in (app.test_request_context, app.app_context):
        with context(), pytest.raises(ValueError, match="give the response's nonce"):
            write()


@pytest.mark.parametrize(
    "spelling",
    [{"nonce": ""}, {"NONCE": ""}, {"nonce": Markup("")}],
    ids=["keyword", "keyword in capitals", "HTML"],
)
def test_an_empty_nonce_is_no_nonce(static: Path, spelling: dict[str, Any]) -> None:
    """Flask-Talisman's ``csp_nonce()`` is ``""`` where it made no nonce (a view whose
    policy it turned off, an error page a hook raised before Talisman's): given to
    ``push()``, ``; nonce=""`` was written, a nonce no policy allows, and the link was
    taken for one made for this response alone, never hinted to the next visitor. It is
    no nonce, as ``None`` is: no parameter, on the element neither, and learned."""
    (static / "app.js").write_bytes(CONTENT)
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static, FIREHOSE_EARLY_HINTS=True)

    @app.route("/page")
    def page() -> str:
        push("/static/other.js", as_="script", **spelling)
        push("/static/more.js", "nonce=", as_="script")
        push("/static/last.js", 'nonce=""', as_="script")
        push_static("site.css", **spelling)
        return static_tag("app.js", **spelling)

    hints: list[list[tuple[str, str]]] = []
    environ = {"wsgi.early_hints": hints.append, "HTTP_ACCEPT": "text/html"}
    client = app.test_client()
    response = client.get("/page", environ_base=environ)
    v = version(CONTENT)
    assert response.get_data(as_text=True) == f'<script src="/static/app.js?v={v}"></script>'
    links = [
        "</static/other.js>; rel=preload; as=script",
        "</static/more.js>; rel=preload; as=script",
        "</static/last.js>; rel=preload; as=script",
        f"</static/site.css?v={v}>; rel=preload; as=style",
        f"</static/app.js?v={v}>; rel=preload; as=script",
    ]
    assert response.headers["Link"] == ", ".join(links)
    # Learned as any link: the next visitor's navigation is hinted all five.
    app.test_client().get("/page", environ_base=environ)
    assert [value for name, value in hints[-1] if name == "Link"] == [", ".join(links)]


@pytest.mark.parametrize(
    "value",
    [" ", "\t", "\r\n", "n0nce ", "n0 nce", "n\u00f6nce", "n0.nce", 'n0"nce'],
    ids=["space", "tab", "newline", "trailing space", "inner space", "non-ASCII", "dot", "quote"],
)
def test_a_nonce_no_policy_can_name_is_no_nonce(static: Path, value: str) -> None:
    """A CSP nonce-source is ``'nonce-' base64-value``, ``base64-value = 1*( ALPHA / DIGIT
    / "+" / "/" / "-" / "_" ) *2"="`` (CSP3): a nonce holding anything else, whitespace
    alone or beside other characters, matches no policy, as an empty one matches none.
    ``push()`` wrote ``nonce=" "``, a link taken for one made for that response alone and
    never hinted, or, for a tab, newline or quote, raised ValueError (a 500); a flag's
    value was stripped first, so the same nonce was none there; a declaration refused
    it. It is no nonce, as ``""`` is, wherever a nonce is taken: left out, and learned."""
    (static / "app.js").write_bytes(CONTENT)
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static, FIREHOSE_EARLY_HINTS=True)

    @app.route("/page")
    @Firehose.hints("/static/declared.js", as_="script", nonce=value)
    def page() -> str:
        push("/static/other.js", as_="script", nonce=value)
        push("/static/more.js", f'nonce="{value}"', as_="script")
        push_static("site.css", nonce=value)
        return static_tag("app.js", nonce=value)

    hints: list[list[tuple[str, str]]] = []
    environ = {"wsgi.early_hints": hints.append, "HTTP_ACCEPT": "text/html"}
    response = app.test_client().get("/page", environ_base=environ)
    v = version(CONTENT)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == f'<script src="/static/app.js?v={v}"></script>'
    links = [
        "</static/declared.js>; rel=preload; as=script",
        "</static/other.js>; rel=preload; as=script",
        "</static/more.js>; rel=preload; as=script",
        f"</static/site.css?v={v}>; rel=preload; as=style",
        f"</static/app.js?v={v}>; rel=preload; as=script",
    ]
    assert response.headers["Link"] == ", ".join(links)
    app.test_client().get("/page", environ_base=environ)
    assert [value for name, value in hints[-1] if name == "Link"] == [", ".join(links)]


@pytest.mark.parametrize(
    ("value", "written"),
    [(1.5, None), (-2, "-2"), (12, "12")],
    ids=["dot", "minus", "digits"],
)
def test_a_nonce_given_as_a_number_is_its_str(
    static: Path, value: float, written: str | None
) -> None:
    """A number is its str, whatever the parameter: ``nonce=1.5`` is ``nonce="1.5"``, which
    no policy can name (a "."), so no nonce. ``push()`` wrote ``nonce=1.5`` and took the
    link for one made for that response alone, never hinted; ``static_tag`` wrote it on
    the element but not on the Link, and a declaration was refused as naming a nonce,
    where the str was none. A number of base64 characters is a nonce, as its str is."""
    (static / "app.js").write_bytes(CONTENT)
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static, FIREHOSE_EARLY_HINTS=True)

    def page() -> str:
        push("/static/other.js", as_="script", nonce=value)
        push_static("site.css", nonce=value)
        return static_tag("app.js", nonce=value)

    # A declaration naming a nonce is refused (docs/how-it-works.md): one naming none is not.
    declared = not written
    if declared:
        page = Firehose.hints("/static/declared.js", as_="script", nonce=value)(page)
    app.add_url_rule("/page", "page", page)
    hints: list[list[tuple[str, str]]] = []
    environ = {"wsgi.early_hints": hints.append, "HTTP_ACCEPT": "text/html"}
    response = app.test_client().get("/page", environ_base=environ)
    v = version(CONTENT)
    nonce = f" nonce={written}" if written else ""
    attribute = f' nonce="{written}"' if written else ""
    assert response.status_code == 200
    assert response.get_data(as_text=True) == (
        f'<script src="/static/app.js?v={v}"{attribute}></script>'
    )
    links = [
        *(["</static/declared.js>; rel=preload; as=script"] if declared else []),
        f"</static/other.js>; rel=preload; as=script;{nonce}",
        f"</static/site.css?v={v}>; rel=preload; as=style;{nonce}",
        f"</static/app.js?v={v}>; rel=preload; as=script;{nonce}",
    ]
    assert response.headers["Link"] == ", ".join(link.removesuffix(";") for link in links)
    if not written:  # no nonce: learned as any link, and hinted to the next visitor
        app.test_client().get("/page", environ_base=environ)
        assert [value for name, value in hints[-1] if name == "Link"] == [
            ", ".join(link.removesuffix(";") for link in links)
        ]


def test_a_nonce_of_every_base64_character_is_kept(static: Path) -> None:
    """Each character CSP3's base64-value allows is a nonce's, in the Link and on the
    element alike."""
    (static / "app.js").write_bytes(CONTENT)
    app = make_app(static)
    nonce = "AZaz09+/-_=="

    @app.route("/page")
    def page() -> str:
        push("/static/other.js", as_="script", nonce=nonce)
        return static_tag("app.js", nonce=nonce)

    response = app.test_client().get("/page")
    v = version(CONTENT)
    assert response.get_data(as_text=True) == (
        f'<script src="/static/app.js?v={v}" nonce="{nonce}"></script>'
    )
    assert response.headers["Link"] == (
        f'</static/other.js>; rel=preload; as=script; nonce="{nonce}", '
        f'</static/app.js?v={v}>; rel=preload; as=script; nonce="{nonce}"'
    )


def test_the_keywords_push_takes_type_check_as_it_types_them(static: Path) -> None:
    """``crossorigin=None`` turns a font's ``crossorigin`` off, as the helpers' docstrings
    and docs/early-hints.md say, and ``True`` is a bare flag, as for ``push()``, whose
    arguments the helpers take; typed ``**params: str``, ``mypy --strict`` and pyright
    refused each call below in an app's code, though each works. ``make lint`` runs mypy
    over this file: it checks these calls as an app's are checked."""
    for name in ("inter.woff2", "app.js", "data.json"):
        (static / name).write_bytes(CONTENT)
    app = make_app(static)

    @app.route("/page")
    @Firehose.hints_static("inter.woff2", crossorigin=None, fetchpriority="high")
    def page() -> str:
        push_static("data.json", crossorigin=None)
        return static_tag("app.js", defer=True, crossorigin=True)

    response = app.test_client().get("/page")
    v = version(CONTENT)
    assert response.get_data(as_text=True) == (
        f'<script src="/static/app.js?v={v}" defer crossorigin></script>'
    )
    assert response.headers["Link"] == (
        f"</static/inter.woff2?v={v}>; rel=preload; as=font; fetchpriority=high; "
        f'type="font/woff2", </static/data.json?v={v}>; rel=preload; as=fetch, '
        f"</static/app.js?v={v}>; rel=preload; as=script; crossorigin"
    )


@pytest.mark.parametrize("value", [None, False, ""])
def test_a_declaration_naming_no_nonce_is_declared(static: Path, value: object) -> None:
    """``nonce=None``, ``nonce=False`` and an empty nonce leave the parameter out, as
    ``push()`` does."""
    (static / "app.js").write_bytes(CONTENT)
    app = make_app(static)

    @app.route("/page")
    @Firehose.hints("/static/other.js", as_="script", nonce=value)  # type: ignore[arg-type]
    @Firehose.hints_static("app.js", nonce=value)  # type: ignore[arg-type]
    def page() -> str:
        return "page"

    response = app.test_client().get("/page")
    assert response.headers["Link"] == (
        "</static/other.js>; rel=preload; as=script, "
        f"</static/app.js?v={version(CONTENT)}>; rel=preload; as=script"
    )


def test_a_declared_file_the_view_writes_with_a_nonce_is_linked_with_it(static: Path) -> None:
    """docs/how-it-works.md: the view's own push of a declared url with this response's
    nonce is the one linked (the first push of a url wins, but for a nonce), and learned as
    such: the next visitor's 103 no longer names the file without the nonce the policy
    asks for."""
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static, FIREHOSE_EARLY_HINTS=True)
    nonces = iter(["n1", "n2", "n3"])

    @app.route("/page")
    @Firehose.hints_static("site.css")
    def page() -> str:
        template = "{{ static_tag('site.css', nonce=nonce) }}"
        return render_template_string(template, nonce=next(nonces))

    navigation = {"Accept": "text/html"}
    hinted, response = first_visit(app, "/page", headers=navigation)
    [declared] = hinted  # a page not learned yet: its declaration, with no nonce
    assert response.headers["Link"] == f"{declared}; nonce=n1"
    assert 'nonce="n1"' in response.get_data(as_text=True)
    hinted, response = first_visit(app, "/page", headers=navigation)
    assert hinted == []
    assert response.headers["Link"] == f"{declared}; nonce=n2"


def test_a_declared_url_flask_cannot_build_is_logged_and_left_out(
    static: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``url_for``'s BuildError (a ``_method`` the static route does not take) is a
    declaration no link can be made of too: the page is served without it."""
    (static / "site.css").write_bytes(CONTENT)
    app = make_app(static, FIREHOSE_EARLY_HINTS=True)

    @app.route("/page")
    @Firehose.hints_static("site.css", _method="POST")
    def page() -> str:
        return "page"

    with caplog.at_level(logging.ERROR, logger="firehose_digest"):
        hinted, response = first_visit(app, "/page", headers={"Accept": "text/html"})
    assert (response.status_code, hinted, response.headers.get("Link")) == (200, [], None)
    [told] = [record for record in caplog.records if "declares" in record.getMessage()]
    assert "Could not build url" in told.getMessage()


def test_a_declaration_no_link_can_be_made_of_is_told_for_each_app(
    static: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Once for each app (and each endpoint) it is served under, not once in the process:
    a second app sharing the view is told too."""
    declared = Firehose.hints_static("gone.css")

    def page() -> str:
        return "page"

    apps = [make_app(static), make_app(static)]
    for app in apps:
        app.add_url_rule("/page", view_func=declared(page))
    with caplog.at_level(logging.ERROR, logger="firehose_digest"):
        for app in (*apps, *apps):
            assert app.test_client().get("/page").status_code == 200
    told = [record for record in caplog.records if "declares" in record.getMessage()]
    assert len(told) == 2
