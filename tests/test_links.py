"""The Link builder: exact strings for the common cases, round trips through a strict parser."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup

from firehose_digest.links import MAX_LOGGED_CHARS, for_log, format_link, format_url
from tests.mod_http2 import ATTR_CHAR, pushed_by_apache, read_as_apache
from tests.rfc8288 import parse_link_header

TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("/a.css", (("rel", "preload"), ("as", "style"))), "</a.css>; rel=preload; as=style"),
        (
            (
                "/f.woff2",
                (("rel", "preload"), ("as", "font"), ("type", "font/woff2")),
                ("crossorigin",),
            ),
            '</f.woff2>; rel=preload; as=font; type="font/woff2"; crossorigin',
        ),
        (("/a.js", (("rel", "preload"),), ("nopush",)), "</a.js>; rel=preload; nopush"),
        (("/q?a=1&b=2", (("title", "C:\\dir\\"),)), r'</q?a=1&b=2>; title="C:\\dir\\"'),
        # Apache reads no "%" in an unquoted value (its ptoken): quoted.
        (("/a.css", (("title", "50%"), ("as", "x'*!"))), '</a.css>; title="50%"; as=x\'*!'),
        (("/é.css",), "</%C3%A9.css>"),
        (("/my photo.jpg",), "</my%20photo.jpg>"),
        # The URL Standard drops leading and trailing spaces: the browser asks for /a.css.
        ((" /a.css ",), "</a.css>"),
        # What a browser encodes differs by part: path, query, fragment.
        (('/q"`{}.css?x={1}&y="z"#`f{',), "</q%22%60%7B%7D.css?x={1}&y=%22z%22#%60f{>"),
        (("/a.css?who='me'",), "</a.css?who=%27me%27>"),
        # Chromium 156 asks for /h%5Et.css (the URL Standard added "^" to the path set).
        (("/h^t.css?v=^",), "</h%5Et.css?v=^>"),
        (("/%C3%A9 %20.css",), "</%C3%A9%20%20.css>"),
        (("https://cdn.example/a,b.css",), "<https://cdn.example/a,b.css>"),
        # "<", ">", controls and DEL are encoded in each part, as a browser encodes them:
        # a prefix a client sent (ProxyFix's X-Forwarded-Prefix) that url_for copied as it
        # was cannot close the "<...>" or cost the page.
        (("/<x>/a.css?v=<1>#<f>",), "</%3Cx%3E/a.css?v=%3C1%3E#%3Cf%3E>"),
        (("<x",), "<%3Cx>"),
        (("/a\x00b\x1f\x7f.css?q=\x01#\x02f",), "</a%00b%1F%7F.css?q=%01#%02f>"),
        # The URL Standard drops controls around a url, and tabs anywhere in it.
        (("\x01/a.css\x1f ",), "</a.css>"),
        (("/a\tb/c.css",), "</ab/c.css>"),
    ],
)
def test_exact_strings(args: tuple[object, ...], expected: str) -> None:
    assert format_link(*args) == expected  # type: ignore[arg-type]


def test_a_str_subclass_is_encoded_as_its_text() -> None:
    """Markup's ``+`` escapes the str joined to it: its encoded path came out with ``'``
    as ``&#39;``, whose ``#`` starts a fragment."""
    assert format_link(Markup("/o'neil café.css")) == "</o'neil%20caf%C3%A9.css>"
    assert type(format_url(Markup("/a.css"))) is str


def test_a_str_subclass_parameter_value_is_written_as_its_text() -> None:
    """A value given as ``Markup`` (a template's ``{% set %}`` block) is escaped and
    refused as the same text given as a str."""
    value = format_link("/a.css", (("title", Markup("C:\\dir <x>")),))
    assert value == r'</a.css>; title="C:\\dir <x>"'
    assert parse_link_header(value) == [("/a.css", [("title", "C:\\dir <x>")])]
    with pytest.raises(ValueError, match="'title'"):
        format_link("/a.css", (("title", Markup('say "hi"')),))


@pytest.mark.parametrize(
    ("text", "logged"),
    [
        ("/a.css", "/a.css"),
        # A text of MAX_LOGGED_CHARS is shown whole; one character more is cut there.
        ("/" + "a" * (MAX_LOGGED_CHARS - 1), "/" + "a" * (MAX_LOGGED_CHARS - 1)),
        ("/" + "a" * MAX_LOGGED_CHARS, "/" + "a" * (MAX_LOGGED_CHARS - 1) + "..."),
        # A newline or an ESC would start a line or recolour a terminal: quoted.
        ("/a\nb", "'/a\\nb'"),
        (
            "/\x1b[2J" + "b" * MAX_LOGGED_CHARS,
            repr("/\x1b[2J" + "b" * (MAX_LOGGED_CHARS - 5) + "..."),
        ),
    ],
)
def test_a_client_s_text_is_logged_whole_up_to_its_bound(text: str, logged: str) -> None:
    assert for_log(text) == logged


@pytest.mark.parametrize(
    "url",
    ["/a\r\nSet-Cookie: x=1", "/a\nb", "/a\rb", "/a.css\n", "", "  ", " \t\x00 ", "/\udcff", 3],
)
def test_url_that_could_break_the_header_raises(url: object) -> None:
    with pytest.raises(ValueError, match="url"):
        format_link(url)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url",
    [
        "http:cdn.example/x.css",
        "HTTPS:cdn.example/x.css",
        "https:/x.css",
        "http:/\tx.css",  # the tab dropped first, as the URL parser drops it
        " https:x.css",
        "https:",
        "http:?v=1",
        "wss:cdn.example/socket",
        "ftp:cdn.example/x.css",
    ],
)
def test_a_special_scheme_without_its_slashes_raises_saying_how_to_write_it(url: str) -> None:
    """A browser reads ``http:cdn.example/x.css`` by the page's own scheme (URL Standard,
    "special relative or authority state"; Node's WHATWG parser): on an http page, as a
    path of the page's (``http://shop.example/a/cdn.example/x.css``), on an https page
    as the host ``cdn.example``, and ``https:/x.css`` as ``/x.css`` or the host ``x.css``.
    One link cannot name both: it was written as given, its origin taken as none (the
    page's own), whatever the browser fetched. ``ws:``, ``wss:`` and ``ftp:``, which no
    page's scheme is, name a host that origin was blind to as well: one rule for all."""
    with pytest.raises(ValueError) as refusal:
        format_link(url)
    scheme = url.strip().partition(":")[0]
    assert str(refusal.value) == (
        f"a pushed url with the scheme {scheme}: needs '//' and its host after it, got "
        f"{url!r}: without them a browser reads it by the page's own scheme, as a path "
        "on the page's origin or as another host (URL Standard, special relative or "
        f"authority state); write {scheme.lower()}://host/path for another host's file, "
        "or /path for the page's own"
    )


@pytest.mark.parametrize(
    ("url", "written"),
    [
        # The URL Standard reads "\" as "/" in a special url, and skips a third slash:
        # each names the host cdn.example whatever the page's scheme.
        ("http:\\\\cdn.example/x.css", "<http:\\\\cdn.example/x.css>"),
        ("http:/\\cdn.example/x.css", "<http:/\\cdn.example/x.css>"),
        ("https:///cdn.example/x.css", "<https:///cdn.example/x.css>"),
        # Not a special scheme: read as it is, wherever the page is.
        ("file:x.css", "<file:x.css>"),
        ("data:text/css,x", "<data:text/css,x>"),
        ("httpx:cdn.example/x.css", "<httpx:cdn.example/x.css>"),
        # A scheme is ASCII: "\u017f" (long s) matches "s" only in Python's case-insensitive
        # regex. A relative path, its letter percent-encoded as a browser encodes it.
        ("http\u017f:cdn.example/x.css", "<http%C5%BF:cdn.example/x.css>"),
        ("/x.css?u=http:y", "</x.css?u=http:y>"),
    ],
)
def test_a_url_whose_host_no_page_s_scheme_changes_is_written_as_given(
    url: str, written: str
) -> None:
    assert format_link(url) == written


@pytest.mark.parametrize(
    ("params", "flags"),
    [
        ((("as", "style\r\nX-Evil: 1"),), ()),
        ((("as", "caf\u00e9"),), ()),
        # Any control character, not CR and LF alone (docs/how-it-works.md).
        ((("title", "a\tb"),), ()),
        ((("title", "a\x00b"),), ()),
        ((("title", "a\x1fb"),), ()),
        ((("title", "a\x7fb"),), ()),
        ((("bad name", "x"),), ()),
        ((("", "x"),), ()),
        ((), ("cross origin",)),
        ((), ("x\n",)),
        ((("as", 1),), ()),
        # nginx and h2o split on "," and ";" inside quotes: they pushed /a.css every visit
        # and dropped the links after it.
        ((("title", "Regular, bold"),), ()),
        ((("title", "a;rel=preload;b"),), ()),
        # Apache ends a quoted value at its first '"', escaped or not, and reads nothing
        # after it: neither the link's nopush nor the links after it.
        ((("title", 'say "hi"'),), ()),
        ((("title", '"'),), ()),
        # Apache reads a name or flag as RFC 5987's attr-chars: at a "'", "*" or "%" it
        # stops reading, as above.
        ((("title*", "UTF-8''caf%C3%A9"),), ()),
        ((("it's", "x"),), ()),
        ((), ("50%",)),
        ((), ("a*",)),
    ],
)
def test_bad_parameter_or_flag_raises(params: object, flags: object) -> None:
    with pytest.raises(ValueError, match="Link"):
        format_link("/a.css", params, flags)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("params", "flags"),
    [
        # A one-flag tuple written without its comma is a str: each letter was a flag.
        ((), "nopush"),
        # A dict's keys were unpacked as (name, value): {"as": "style"} wrote "a=s".
        ({"as": "style"}, ()),
        ("as=style", ()),
        # Bytes are their numbers: "Link flag must be an RFC 8288 token, got 110".
        ((), b"nopush"),
        # A flag's value in a dict was dropped: "use-credentials" wrote a bare
        # crossorigin, which is anonymous, and the font's preload went unused.
        ((("as", "font"),), {"crossorigin": "use-credentials"}),
    ],
)
def test_params_or_flags_given_as_a_str_or_dict_raise(params: object, flags: object) -> None:
    with pytest.raises(ValueError, match=r"Link parameters .* flags"):
        format_link("/a.css", params, flags)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("params", "flags", "message"),
    [
        (
            (("bad name", "x"),),
            (),
            "Link parameter name must be an RFC 8288 token, got 'bad name'",
        ),
        ((), ("cross origin",), "Link flag must be an RFC 8288 token, got 'cross origin'"),
    ],
)
def test_the_error_says_whether_a_parameter_name_or_a_flag_is_bad(
    params: tuple[tuple[str, str], ...], flags: tuple[str, ...], message: str
) -> None:
    """A template's push() raises it: it names what to fix."""
    with pytest.raises(ValueError) as raised:
        format_link("/a.css", params, flags)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("name", "value"),
    [("media", "screen, print"), ("imagesrcset", "/a.png 1x, /a-2x.png 2x"), ("title", "a;b")],
)
def test_a_value_no_proxy_reads_whole_says_what_to_do_instead(name: str, value: str) -> None:
    """A media list or a responsive image's candidates cannot be in a Link header a push
    proxy reads: the error says where such a preload goes (a template's push() raises
    it), not only why it was refused."""
    with pytest.raises(ValueError) as raised:
        format_link("/a.png", ((name, value),))
    assert str(raised.value) == (
        f"Link parameter {name!r} holds a ',' or ';', which push proxies read as the end "
        f"of the link or parameter even when quoted: {value!r}; preload the file from the "
        'page, with a <link rel="preload"> element (static_tag writes one with the value), '
        "or write its Link in the view, nopush before the value (docs/how-it-works.md)"
    )


#: What the URL parser drops from a url before reading it: C0 controls and spaces at
#: either end, tabs anywhere.
AROUND = "".join(map(chr, range(0x21)))


#: http:, https:, ws:, wss: or ftp: (the URL Standard's special schemes but file:) not
#: followed by two slashes, either of them a backslash.
SPECIAL_WITHOUT_SLASHES = re.compile(r"(?:https?|wss?|ftp):(?![/\\]{2})", re.IGNORECASE | re.ASCII)


def as_parsed(url: str) -> str:
    return url.strip(AROUND).replace("\t", "")


# Any character but CR and LF, which raise: ASCII (controls and DEL too) and beyond.
urls = st.text(
    st.characters(max_codepoint=0x7F, exclude_characters="\r\n")
    | st.characters(min_codepoint=0xA0, max_codepoint=0x2FFF),
    min_size=1,
    max_size=40,
).filter(
    # Nothing but what is dropped is no url at all; a special scheme without "//" is
    # refused (test_a_special_scheme_without_its_slashes_raises_saying_how_to_write_it).
    lambda url: as_parsed(url) and not SPECIAL_WITHOUT_SLASHES.match(as_parsed(url))
)
tokens = st.text(st.sampled_from(TCHARS), min_size=1, max_size=12)
# Names and flags Apache reads: tokens but "'", "*" and "%" (RFC 5987's attr-chars).
names = st.text(st.sampled_from(sorted(ATTR_CHAR)), min_size=1, max_size=12)
# Any printable ASCII but "," and ";", which push proxies split on even when quoted, and
# '"', which Apache reads as the end of a quoted value, escaped or not.
values = tokens | st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters=',;"'),
    max_size=20,
)


@given(urls, st.lists(st.tuples(names, values), max_size=5), st.lists(names, max_size=3))
def test_strict_parser_and_apache_read_back_what_we_build(
    url: str, params: list[tuple[str, str]], flags: list[str]
) -> None:
    """RFC 8288 reads each parameter and flag; so does Apache's ``mod_http2``, and the
    link after it (a ``\\`` it reads as written: it unescapes nothing)."""
    value = format_link(url, tuple(params), tuple(flags))
    assert parse_link_header(value) == [(format_url(url), [*params, *((f, None) for f in flags)])]
    assert value.isascii() and "\r" not in value and "\n" not in value
    escaped = [(name, v.replace("\\", "\\\\")) for name, v in params]
    assert read_as_apache(f"{value}, </next.css>; rel=preload") == [
        (format_url(url), [*escaped, *((f, "") for f in flags)]),
        ("/next.css", [("rel", "preload")]),
    ]


@given(tokens.filter(lambda token: set(token) & set("'*%")), values)
def test_a_name_or_flag_apache_cannot_read_raises(token: str, value: str) -> None:
    with pytest.raises(ValueError, match="Apache"):
        format_link("/a.css", ((token, value),))
    with pytest.raises(ValueError, match="Apache"):
        format_link("/a.css", (), (token,))


def test_apache_reads_a_held_link_s_nopush_whatever_its_values() -> None:
    """Behind Apache, ``title=50%`` or ``title="say \\"hi\\""`` hid the ``nopush`` after
    it, so a held file was pushed on every visit, and the link after it was never
    pushed. The one is quoted, the other refused."""
    held = format_link("/a.css", (("rel", "preload"), ("title", "50%")), ("nopush",))
    assert pushed_by_apache(f"{held}, </b.js>; rel=preload") == ["/b.js"]


@given(urls)
def test_a_url_is_only_percent_encoded_and_only_once(url: str) -> None:
    """Formatting adds percent-escapes and nothing else (existing ones are kept), and a
    formatted url formats to itself, so both spellings are one key."""
    formatted = format_url(url)
    assert formatted.isascii() and not set(formatted) & set(' "<>\x7f' + AROUND)
    assert unquote(formatted) == unquote(as_parsed(url))
    assert format_url(formatted) == formatted


# The URL Standard's percent-encode sets, as it lists them
# (https://url.spec.whatwg.org/#percent-encoded-bytes): the C0 control set (C0 controls
# and above "~": DEL and non-ASCII), and beyond it path, special-query and fragment.
C0_CONTROL_SET = frozenset(map(chr, [*range(0x20), 0x7F]))
PATH_SET = C0_CONTROL_SET | frozenset(' "#<>?^`{}')
QUERY_SET = C0_CONTROL_SET | frozenset(" \"#<>'")
FRAGMENT_SET = C0_CONTROL_SET | frozenset(' "<>`')


def encoded_length(part: str, encode_set: frozenset[str]) -> int:
    """The length of ``part`` once each character of the set, and each non-ASCII one as
    UTF-8, is written %XX."""
    return sum(3 * len(c.encode()) if c in encode_set or not c.isascii() else 1 for c in part)


@given(urls)
def test_each_part_is_encoded_with_its_own_percent_encode_set(url: str) -> None:
    """Exactly what a browser encodes in each part, and nothing more."""
    requested = as_parsed(url)
    before_fragment, _, fragment = requested.partition("#")
    path, _, query = before_fragment.partition("?")
    formatted = format_url(url)
    formatted_before, _, formatted_fragment = formatted.partition("#")
    formatted_path, _, formatted_query = formatted_before.partition("?")
    assert not PATH_SET & set(formatted_path)
    assert not QUERY_SET & set(formatted_query)
    assert not FRAGMENT_SET & set(formatted_fragment)
    assert len(formatted_path) == encoded_length(path, PATH_SET)
    assert len(formatted_query) == encoded_length(query, QUERY_SET - {"#"})
    assert len(formatted_fragment) == encoded_length(fragment, FRAGMENT_SET)


@given(st.lists(st.tuples(urls, tokens), min_size=1, max_size=6))
def test_joined_values_parse_as_one_list(links: list[tuple[str, str]]) -> None:
    header = ", ".join(format_link(url, (("as", as_),)) for url, as_ in links)
    assert [params for _, params in parse_link_header(header)] == [
        [("as", as_)] for _, as_ in links
    ]
