"""The same push arguments, read by each place they reach, say the same link.

One call's arguments (a url; flags, ``"name=value"`` flags and keywords; a str or
``Markup``; ``as_``, ``learn``) reach a view's ``push()`` and a template's, whose ``Link``
header :mod:`tests.rfc8288` reads back; ``static_tag()``, whose element ``html.parser``
reads as a page's parser does; the page's learned 103 Early Hints; and the connector, whose
keys make a return visit's links ``nopush``. Generated over small, pointed alphabets (case,
whitespace, quotes, character references in ``Markup``, empty strings, numbers, ``True``,
``False`` and ``None``), with one spelling of each parameter name per call (several
spellings of one name are collect.as_written's own rule, tested beside it):

- ``push()`` raises :class:`ValueError` or writes one link of that url and those
  parameters, the same from a view and from a template (docs/how-it-works.md, ``push()``);
- ``static_tag()``'s element says what its ``Link`` says of every attribute the element
  repeats (docs/early-hints.md, "Static files");
- a page's 103 is its 200's links less those docs/early-hints.md says a 103 never sends
  ("What is sent when", "What is learned");
- the same arguments pushed twice in a request, or in two requests, make the same link,
  which a return visit writes ``nopush`` exactly where it was offered for push.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask, render_template_string
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from firehose_digest import Firehose, push, static_tag
from firehose_digest.hints import TYPES_EVERY_BROWSER_USES
from firehose_digest.links import format_url
from tests.rfc8288 import parse_link_header

#: One call's arguments: url, flags, as_, keywords.
Call = tuple[Any, tuple[Any, ...], Any, dict[str, Any]]

quick = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)

VALUES = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "a",
            "A b",
            "anonymous",
            "Use-Credentials",
            "sha384-AbC+/=",
            "a&amp;b",
            "&#32;",
            "a\tb",
            "'q'",
            '"q"',
            "no-referrer",
            "HIGH",
            "0",
            "preconnect",
            "Preload",
            " preload ",
            "preload prefetch",
            "abc+/=",
            "a=b",
            "x, y",
        ]
    ),
    st.sampled_from(["", " ", "a&amp;b", " all ", "a\n b", "&quot;", "&#65;", "&lt;"]).map(Markup),
    st.sampled_from([0, 1, 1.5, -0.0, True, False, None]),
)
NAMES = st.sampled_from(
    [
        "rel",
        "REL",
        "nonce",
        "Nonce",
        "title",
        "Title",
        "media",
        "integrity",
        "crossorigin",
        "CrossOrigin",
        "type",
        "fetchpriority",
        "referrerpolicy",
        "imagesizes",
        "data-x",
    ]
)
FLAGS = st.sampled_from(
    [
        "rel",
        "AS",
        "crossorigin",
        "Crossorigin ",
        "nopush",
        "title=a",
        'title="a b"',
        "title=",
        "type=text/css",
        "integrity=sha",
        " type",
        "media",
        Markup("title=a&amp;b"),
        Markup("media&#61;all"),
    ]
)
AS = st.sampled_from(
    [
        None,
        "style",
        "Style",
        "font",
        "FONT",
        "fetch",
        "script",
        "",
        " style",
        Markup("style"),
        Markup("fo&#110;t"),
    ]
)
URLS = st.sampled_from(
    [
        "/a.css",
        "/a?x=1&y=2",
        "/a b",
        Markup("/a?x=1&amp;y=2"),
        Markup("/a\n.css"),
        "https://cdn.example/x.css",
        "//cdn.example/y",
        "rel.css",
        "/\xe4",
    ]
)


def name_of(argument: Any) -> str:
    """The parameter a flag or keyword names, as a page reads it, in lower case."""
    text = html.unescape(argument) if isinstance(argument, Markup) else argument
    return str(text).partition("=")[0].strip().lower()


def one_spelling_each(flags: Iterable[Any], keywords: Iterable[str], as_: Any) -> bool:
    names = [name_of(flag) for flag in flags] + [name.lower() for name in keywords]
    names += ["as"] if as_ is not None else []
    return len(names) == len(set(names))


def calls(
    urls: st.SearchStrategy[Any],
    flags: st.SearchStrategy[Any],
    as_: st.SearchStrategy[Any],
    names: st.SearchStrategy[str],
    values: st.SearchStrategy[Any],
) -> st.SearchStrategy[Call]:
    return st.tuples(
        urls,
        st.lists(flags, max_size=2).map(tuple),
        as_,
        st.dictionaries(names, values, max_size=3),
    ).filter(lambda call: one_spelling_each(call[1], call[3], call[2]))


def pushed(call: Call, learn: bool = True) -> str:
    url, flags, as_, keywords = call
    return push(url, *flags, as_=as_, learn=learn, **keywords)


def accepted(call: Call) -> bool:
    """Whether ``push()`` takes ``call``, outside a request, or raises ValueError; any
    other error fails the test."""
    try:
        pushed(call)
    except ValueError:
        return False
    return True


def make_site(**config: Any) -> tuple[Flask, dict[str, Any]]:
    """An app whose views push, or render a template pushing, what ``given`` holds."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="agreement", **config)
    Firehose(app)
    given_: dict[str, Any] = {}

    @app.route("/view")
    def view() -> str:
        for call, learn in given_["calls"]:
            pushed(call, learn)
        return "view"

    @app.route("/twice")
    def twice() -> str:
        for call, learn in given_["calls"]:
            pushed(call, learn)
            pushed(call, learn)
        return "twice"

    @app.route("/template")
    def template() -> str:
        pushes = []
        for (url, flags, as_, keywords), learn in given_["calls"]:
            keywords = {**keywords, "learn": learn}
            if as_ is not None:
                keywords["as"] = as_  # as= in a template
            pushes.append((url, flags, keywords))
        return render_template_string(
            "{% for u, f, k in pushes %}{{ push(u, *f, **k) }}{% endfor %}", pushes=pushes
        )

    return app, given_


def expected_params(call: Call) -> dict[str, str | None]:
    """The parameters docs/how-it-works.md says ``call`` links, by lower-case name (a flag
    None), beside the ``rel``, ``as``, ``crossorigin`` and ``nopush`` push() may add."""
    _, flags, _, keywords = call
    expected: dict[str, str | None] = {}
    for name, value in keywords.items():
        if value is None or value is False:
            continue  # left out
        if value is True:
            expected[name.lower()] = None  # the bare flag
            continue
        if isinstance(value, Markup):  # as the page reads it, whitespace collapsed
            value = " ".join(html.unescape(str(value)).split())
        expected[name.lower()] = str(value)
    for flag in flags:
        read = html.unescape(flag) if isinstance(flag, Markup) else flag
        name, equals, value = (part.strip() for part in str(read).partition("="))
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        expected[name.lower()] = value if equals else None
    rel = expected.get("rel")
    if rel is not None:  # a lone preload in lower case; no relation at all is the default
        rel = " ".join(rel.split())
        expected["rel"] = "preload" if rel.lower() in ("", "preload") else rel
    nonce = expected.get("nonce", "")
    if nonce is None or not re.fullmatch(r"[A-Za-z0-9+/_-]+={0,2}", nonce):
        expected.pop("nonce", None)  # none a policy can name: none (how-it-works.md)
    return expected


def link_of(response: Any) -> str | None:
    assert response.status_code == 200, response.get_data(as_text=True)
    link: str | None = response.headers.get("Link")
    return link


@pytest.fixture(scope="module")
def site() -> tuple[Flask, dict[str, Any]]:
    return make_site()


@quick
@given(calls(URLS, FLAGS, AS, NAMES, VALUES))
def test_push_raises_or_links_its_arguments_alike_from_a_view_and_a_template(
    site: tuple[Flask, dict[str, Any]], call: Call
) -> None:
    app, given_ = site
    given_["calls"] = [(call, True)]
    view, template = (app.test_client().get(path) for path in ("/view", "/template"))
    if not accepted(call):
        assert (view.status_code, template.status_code) == (500, 500)
        return
    link = link_of(view)
    assert link_of(template) == link
    assert link is not None
    [(_, params)] = parse_link_header(link)
    written = {name.lower(): value for name, value in params}
    assert len(written) == len(params), f"a name written twice: {link}"
    expected = expected_params(call)
    assert {name: written.get(name, "(none)") for name in expected} == expected, link
    assert set(written) - set(expected) <= {"rel", "as", "crossorigin", "nopush"}, link


# --- static_tag(): its element and its Link -------------------------------------------

FILES = ("site.css", "app.js", "font.woff2", "data.json", "hero.png", "app.mjs")
STATIC_NAMES = st.sampled_from(
    [
        "title",
        "Title",
        "media",
        "MEDIA",
        "integrity",
        "crossorigin",
        "CrossOrigin",
        "type",
        "fetchpriority",
        "referrerpolicy",
        "nonce",
        "imagesrcset",
        "imagesizes",
        "id",
        "defer",
        "Async",
        "rel",
        "REL",
    ]
)
STATIC_VALUES = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "a",
            "A b",
            "anonymous",
            "Use-Credentials",
            "x, y",
            "a&amp;b",
            "&#32;",
            "'q'",
            "module",
            "text/javascript",
            "preload",
            "prefetch",
            "Preload ",
            "all",
            "stylesheet",
            "abc123",
        ]
    ),
    st.sampled_from(["", " ", "a&amp;b", " all ", "a\n b", "&#65;", "&lt;"]).map(Markup),
    st.sampled_from([0, 1, True, False, None]),
)
STATIC_FLAGS = st.sampled_from(
    [
        "as",
        "media",
        "Type",
        "imagesizes",
        "crossorigin",
        "Crossorigin ",
        "nopush",
        "title=a",
        "integrity=sha",
        'media="print"',
        "defer",
        "ASYNC",
        Markup("media&#61;all"),
        "nonce=abc",
        "fetchpriority=high",
        "x-y",
    ]
)
STATIC_AS = st.sampled_from([None, "style", "Style", "font", "fetch", "script", Markup("style")])
#: What every element static_tag writes repeats of its Link (docs/early-hints.md); a
#: <link rel="preload"> (or another relation of the header's) its type, image candidates
#: and as too. No media on a <script>, which has none.
REPEATED = frozenset(
    {"crossorigin", "media", "integrity", "referrerpolicy", "fetchpriority", "nonce"}
)
REPEATED_BY_A_LINK = REPEATED | {"type", "imagesrcset", "imagesizes", "as"}


class Elements(HTMLParser):
    """Each start tag and its attributes, as a page's parser reads them."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))


@pytest.fixture(scope="module")
def static_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Flask, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("agreement") / "static"
    folder.mkdir()
    for name in FILES:
        (folder / name).write_bytes(b"bytes of " + name.encode())
    app = Flask(__name__, static_folder=str(folder))
    app.config["SECRET_KEY"] = "agreement"
    Firehose(app)
    given_: dict[str, Any] = {}

    @app.route("/tag")
    def tag() -> str:
        filename, flags, as_, keywords = given_["call"]
        return str(static_tag(filename, *flags, as_=as_, **keywords))

    return app, given_


def static_tag_refuses(app: Flask, call: Call) -> bool:
    filename, flags, as_, keywords = call
    with app.test_request_context("/"):
        try:
            static_tag(filename, *flags, as_=as_, **keywords)
        except ValueError:
            return True
    return False


@quick
@given(calls(st.sampled_from(FILES), STATIC_FLAGS, STATIC_AS, STATIC_NAMES, STATIC_VALUES))
def test_static_tag_s_element_says_what_its_link_says(
    static_site: tuple[Flask, dict[str, Any]], call: Call
) -> None:
    app, given_ = static_site
    if static_tag_refuses(app, call):
        return
    given_["call"] = call
    response = app.test_client().get("/tag")
    reader = Elements()
    reader.feed(response.get_data(as_text=True))
    [(tag, attribute_list)] = reader.elements
    attributes = dict(attribute_list)
    assert len(attributes) == len(attribute_list), f"an attribute twice: {attribute_list}"
    link = link_of(response)
    if link is None:  # a legacy bundle, a value no Link carries whole: the element alone
        return
    [(url, params)] = parse_link_header(link)
    written = {name.lower(): value for name, value in params}
    assert len(written) == len(params), f"a name written twice: {link}"
    assert url == attributes.get("href", attributes.get("src"))
    if tag == "link" and attributes["rel"] != "stylesheet":
        repeated = REPEATED_BY_A_LINK
    else:
        repeated = REPEATED - {"media"} if tag == "script" else REPEATED
    # A bare attribute and a bare parameter are both the empty value.
    in_link = {name: written[name] or "" for name in repeated if name in written}
    on_element = {name: attributes[name] or "" for name in repeated if name in attributes}
    assert on_element == in_link, (link, response.get_data(as_text=True))
    if tag == "link" and attributes["rel"] == "stylesheet" and written["rel"] == "preload":
        assert written.get("as") == "style", link
    elif tag == "link":
        assert written["rel"] == attributes["rel"], link


# --- the 103 Early Hints of the page ---------------------------------------------------

HINT_URLS = st.sampled_from(
    [
        "/a.css",
        "/b.js",
        "/a?x=1&y=2",
        Markup("/c?x=1&amp;y=2"),
        "https://cdn.example/x.css",
        "//cdn.example/y",
        "rel.css",
        "https://fonts.example",
    ]
)
HINT_NAMES = st.sampled_from(
    [
        "type",
        "Type",
        "crossorigin",
        "integrity",
        "fetchpriority",
        "media",
        "title",
        "nonce",
        "rel",
        "Rel",
        "imagesrcset",
        "referrerpolicy",
    ]
)
HINT_VALUES = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "anonymous",
            "text/css",
            "TEXT/CSS",
            " text/css ",
            "image/jxl",
            "abc",
            "high",
            "preload",
            "Preload",
            "preconnect",
            "prefetch",
            "modulepreload",
            "all",
            "preload prefetch",
            "print",
            "dns-prefetch",
        ]
    ),
    st.sampled_from([True, False, None, 1]),
)
HINT_FLAGS = st.sampled_from(
    [
        "type",
        "crossorigin",
        "nopush",
        "type=text/css",
        "media=print",
        "fetchpriority=low",
        "rel=preconnect",
        "x",
        "nonce=abc",
    ]
)
HINT_AS = st.sampled_from([None, "style", "font", "fetch", "script", "image", "document"])
#: What docs/early-hints.md says a 103's link may hold: "of a 103's links, Chromium 156
#: used those with rel, as, crossorigin, type, integrity and fetchpriority", "so a link
#: with any other is never sent in a 103".
SENT_IN_A_103 = frozenset({"rel", "as", "crossorigin", "type", "integrity", "fetchpriority"})

page_calls = st.lists(
    st.tuples(calls(HINT_URLS, HINT_FLAGS, HINT_AS, HINT_NAMES, HINT_VALUES), st.booleans()),
    min_size=1,
    max_size=4,
).filter(lambda page: all(accepted(call) for call, _ in page))


def url_of(call: Call) -> str:
    url = call[0]
    return format_url(html.unescape(url) if isinstance(url, Markup) else url)


def sent_in_a_103(link: str, page: list[tuple[Call, bool]]) -> list[Any]:
    """The links of a fresh client's 200 its 103 carries, by docs/early-hints.md."""
    learned: dict[str, bool] = {}
    for call, learn in page:
        learned.setdefault(url_of(call), learn)  # the first push of a url is linked
    sent = []
    for url, params in parse_link_header(link):
        written = {name.lower(): value for name, value in params}
        if not learned[url]:  # learn=False: "not learned"
            continue
        if not set(written) <= SENT_IN_A_103:  # nopush, nonce, media among them
            continue
        if "type" in written and (written["type"] or "").strip().lower() not in (
            TYPES_EVERY_BROWSER_USES
        ):
            continue  # "a link whose type some browser cannot use"
        tracked = written["rel"] == "preload"
        if tracked and not (url.startswith("/") and not url.startswith("//")):
            continue  # "Any other tracked url, a CDN's included, is left to the final Link"
        sent.append((url, params))
    return sent


@pytest.fixture(scope="module")
def hinted_site() -> tuple[Flask, dict[str, Any]]:
    return make_site(FIREHOSE_EARLY_HINTS=True)


NAVIGATION = {
    "HTTP_ACCEPT": "text/html",
    "HTTP_SEC_FETCH_MODE": "navigate",
    "HTTP_SEC_FETCH_DEST": "document",
}


@quick
@given(page_calls)
def test_a_page_s_103_is_its_200_s_links_less_what_a_103_never_sends(
    hinted_site: tuple[Flask, dict[str, Any]], page: list[tuple[Call, bool]]
) -> None:
    app, given_ = hinted_site
    given_["calls"] = page
    hints: list[list[tuple[str, str]]] = []
    navigation: dict[str, Any] = {**NAVIGATION, "wsgi.early_hints": hints.append}
    learned_from = link_of(app.test_client().get("/view", environ_base=navigation))
    hints.clear()  # what the previous example's page taught
    link = link_of(app.test_client().get("/view", environ_base=navigation))
    assert link == learned_from
    sent = [] if link is None else sent_in_a_103(link, page)
    assert [name for headers in hints for name, _ in headers] == (["Link"] if sent else [])
    assert [parse_link_header(value) for headers in hints for _, value in headers] == (
        [sent] if sent else []
    )


# --- pushed twice, and held ----------------------------------------------------------


@quick
@given(page_calls)
def test_the_same_arguments_make_the_same_link_and_are_held_by_their_key(
    site: tuple[Flask, dict[str, Any]], page: list[tuple[Call, bool]]
) -> None:
    app, given_ = site
    given_["calls"] = page
    once = link_of(app.test_client().get("/view"))
    client = app.test_client()
    first, back = (link_of(client.get("/twice")) for _ in range(2))
    assert first == once
    if first is None:
        assert back is None
        return
    first_links, back_links = parse_link_header(first), parse_link_header(back or "")
    assert [url for url, _ in back_links] == [url for url, _ in first_links]
    for (_, offered), (_, again) in zip(first_links, back_links, strict=True):
        written = {name.lower(): value for name, value in offered}
        was_offered = written["rel"] == "preload" and "nopush" not in written
        assert again == ([*offered, ("nopush", None)] if was_offered else offered), back
