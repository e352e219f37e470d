"""Static files pushed by content: a versioned url, the right hint, the matching element.

``push_static("site.css")`` is ``url_for("static", filename="site.css", v=<version>)``, pushed
with the ``as``, ``type`` and ``crossorigin`` its extension calls for; the version is a short
hash of the file's bytes, so a changed file gets a new url and is pushed and hinted again.
``static_tag`` writes the element that uses the file from the same call, so the element's
``crossorigin`` (and ``nonce``, ``integrity``, ...) can never differ from the hint's: a
mismatch makes the browser fetch the file a second time.

A static response whose ``v`` is the file's current version is served
:data:`IMMUTABLE` (:func:`cache_versioned_static`): that url can never show other bytes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import stat
import sys
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from time import time_ns
from typing import Any, TypeGuard
from urllib.parse import unquote_to_bytes, urlsplit

from flask import Flask, Request, Response, current_app, has_request_context, request, url_for
from markupsafe import Markup, escape
from werkzeug.datastructures import ResponseCacheControl
from werkzeug.exceptions import HTTPException, SecurityError
from werkzeug.http import http_date, parse_cache_control_header, parse_options_header
from werkzeug.routing import BuildError
from werkzeug.security import safe_join

from .collect import (
    CORS_MODE,
    as_written,
    ascii_lower,
    bare_per_request,
    key_version,
    make_resource,
    names_crossorigin,
    read_as,
    record_push,
    refuse_undefined,
    resource_key,
    resource_of,
    split_rel,
    tell_unfetched_as,
)
from .links import (
    Resource,
    check_value,
    for_log,
    format_url,
    other_number,
    scheme_without_slashes,
    split_by_proxies,
)
from .locks import fork_safe_lock
from .sizes import DICT_SLOT

__all__ = [
    "IMMUTABLE",
    "IMMUTABLE_WRITTEN",
    "MAX_VERSIONED_FILES",
    "PRIVATE_IMMUTABLE",
    "SETTLED_AFTER_NS",
    "STATIC_STAMP",
    "StaticHint",
    "asks_static_file",
    "cache_versioned_static",
    "file_version",
    "named_static",
    "note_static_file",
    "private_if_cookie",
    "push_static",
    "serves_static_file",
    "static_hint",
    "static_hint_resource",
    "static_tag",
    "versions_current",
]

log = logging.getLogger("firehose_digest")


@dataclass(frozen=True)
class _Kind:
    """How a file extension is preloaded."""

    as_: str | None
    type: str | None = None
    rel: str = "preload"


_STYLE, _IMAGE = _Kind("style"), _Kind("image")
#: File extension (lowercase, no dot) -> how it is preloaded.
KINDS: dict[str, _Kind] = {
    "css": _STYLE,
    "js": _Kind("script"),
    # A module graph is preloaded with modulepreload, which takes no `as` (HTML Standard).
    "mjs": _Kind(None, rel="modulepreload"),
    "woff2": _Kind("font", "font/woff2"),
    "woff": _Kind("font", "font/woff"),
    "ttf": _Kind("font", "font/ttf"),
    "otf": _Kind("font", "font/otf"),
    **dict.fromkeys(("png", "jpg", "jpeg", "gif", "webp", "avif", "svg", "ico"), _IMAGE),
    "json": _Kind("fetch"),
}

#: RFC 8246: ``immutable`` tells the browser a fresh response will not change, so it does
#: not revalidate it even on reload; a year is the longest ``max-age`` caches are asked to
#: honour (RFC 9111 §5.2.2.1 advises against more).
IMMUTABLE = "public, max-age=31536000, immutable"
#: The same for a file the app marked ``private`` (a signed-in user's), or whose response
#: sets a cookie (:func:`private_if_cookie`): no shared cache.
PRIVATE_IMMUTABLE = "private, max-age=31536000, immutable"
#: The WSGI environ key under which the extension's wrapper leaves each request a list,
#: which :func:`cache_versioned_static` marks when it wrote a file's ``Cache-Control``: the
#: wrapper (each one the response passes, for an app mounted inside another's) then reads
#: the final headers as the response starts (:func:`private_if_cookie`). A list, not a key
#: set by the step: a middleware inside the wrapper may hand Flask a copy of the environ
#: (``dict(environ)``), whose new keys the wrapper never sees, but which holds the same list.
IMMUTABLE_WRITTEN = "firehose_digest.immutable_written"
#: The WSGI environ key under which :func:`note_static_file` leaves the path of the file a
#: static request names and its stamp, taken before the static view opens it.
STATIC_STAMP = "firehose_digest.static_stamp"

#: Files whose version is known: a site has some hundreds, named in its templates. The bound
#: only guards against a view passing request data as the filename; an entry (path, its
#: stamp, version) takes about 450 bytes, so at most about 1.8 MB.
MAX_VERSIONED_FILES = 4096
#: A file's inode, size, modification and status change times (ns): what changes when its
#: bytes do (:func:`_stamp`).
_Stamp = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class _KnownVersion:
    """The version of the file hashed, and its stamp as it was read."""

    stamp: _Stamp
    version: str
    #: The stamp's times were :data:`SETTLED_AFTER_NS` from the clock as the file was
    #: read (:func:`file_version`).
    settled: bool


#: Absolute path -> its :class:`_KnownVersion`. Emptied when full: it refills on use.
_versions: dict[str, _KnownVersion] = {}
#: How far a stamp's times must be from the clock for a rewrite to change them: a
#: filesystem keeps times in ticks (whole seconds on ext3, HFS+ and an ext4 made with
#: 128-byte inodes, two on FAT; the kernel's clock tick before Linux 6.13), so a file
#: rewritten in place within its tick, at its old size, keeps its whole stamp. Past FAT's
#: two seconds, with a margin.
SETTLED_AFTER_NS = 3_000_000_000


@dataclass
class _PushedFiles:
    """The versioned urls one app pushed: the key (:func:`~.collect.resource_key`) of each
    -> the static endpoint and file name it was made from, and the bytes they keep
    (:func:`_pushed_file_size`)."""

    files: dict[str, tuple[str, str]] = field(default_factory=dict)
    size: int = 0


#: Each app's :class:`_PushedFiles`, for :func:`versions_current`, which checks only the
#: urls the asking app pushed, in its own folders: apps in one process may serve one url
#: from folders of their own (a tenant's theme) or a blueprint's (whose name another app's
#: blueprint may have too), and one's push says nothing of another's file. Each app's is
#: emptied when full, with the same bound, or past :data:`MAX_PUSHED_FILES_BYTES`: the url
#: and the name keep the name as the view passed it (``./a/../site.css``), so a view
#: passing request data makes entries as long as a query.
_pushed_files: weakref.WeakKeyDictionary[Flask, _PushedFiles] = weakref.WeakKeyDictionary()
#: The bytes each app's map may hold, per app, counted as its urls, tuples, endpoints and
#: names and a dict slot each (:func:`_pushed_file_size`): an entry of a 50-character url
#: takes about 320 bytes and is counted at 363, so 1 MiB holds about 2,900 of them, fewer
#: than :data:`MAX_VERSIONED_FILES`.
MAX_PUSHED_FILES_BYTES = 1 << 20
#: Held while an app's map is made, or an entry and the count change: requests adding
#: entries at once would lose updates to the count. Reads (``versions_current``) take none.
_pushed_files_lock = fork_safe_lock()

#: Flags of the element alone: on a preload they mean nothing, and Chromium drops from a
#: 103 a link with a parameter it does not know.
_ELEMENT_FLAGS = ("defer", "async")

#: Attributes the element repeats from the push: what changes how the browser fetches the
#: file (a mismatch refetches it) and the CSP nonce that lets it load.
_MIRRORED = ("media", "integrity", "referrerpolicy", "fetchpriority", "nonce")
#: Attributes a preload element repeats from the push too: they pick by the screen the
#: candidate fetched (HTML Standard), so a preload without them fetches the link's url
#: beside the header's candidate. The other elements take none.
_PRELOAD_MIRRORED = ("imagesrcset", "imagesizes")
#: What the ``Link`` :func:`static_tag` writes holds: what a preload reads of a ``Link``
#: (HTML Standard, "process link headers": ``media``, ``imagesrcset`` and ``imagesizes``;
#: "apply link options from parsed header attributes": the rest), and ``nopush``, the
#: ``Link``'s own, to a push proxy. Any other attribute given is the element's alone (the
#: mirrored ones are on both): in the ``Link`` it says nothing, and Chromium drops from a
#: 103 a link with a parameter it does not know.
_LINK_ATTRIBUTES = frozenset(
    {
        "rel",
        "as",
        "type",
        "crossorigin",
        "integrity",
        "media",
        "referrerpolicy",
        "fetchpriority",
        "nonce",
        "imagesrcset",
        "imagesizes",
        "nopush",
    }
)
#: What an attribute name cannot hold (HTML syntax, "attributes"): a control, a space,
#: ``"``, ``'``, ``>``, ``/`` or ``=``, each of which ends the name, the value or the tag.
_NOT_IN_AN_ATTRIBUTE_NAME = re.compile(r"[\x00-\x20\x7f-\x9f\"'>/=]")
#: The ``type`` values of a classic script (HTML Standard, "JavaScript MIME type essence
#: match", and the empty string); any other but ``module`` makes a data block, which the
#: browser never runs.
_CLASSIC_SCRIPT_TYPES = frozenset(
    {
        "",
        "application/ecmascript",
        "application/javascript",
        "application/x-ecmascript",
        "application/x-javascript",
        "text/ecmascript",
        "text/javascript",
        *(f"text/javascript1.{minor}" for minor in range(6)),
        "text/jscript",
        "text/livescript",
        "text/x-ecmascript",
        "text/x-javascript",
    }
)
#: What the HTML Standard strips from a script's ``type`` before reading it.
_ASCII_WHITESPACE = "\t\n\f\r "


def file_version(path: str) -> str:
    """The file at ``path`` hashed with BLAKE2b of a 5-byte digest, in 10 hex digits (not
    the start of the 64-byte hash ``b2sum`` prints: the digest size is part of BLAKE2b's
    parameters).

    Computed once per file, and again whenever its inode, size, modification or status
    change time changes: a deploy that keeps a file's size and mtime (``cp -p``, a build
    with fixed mtimes, renamed into place) still changes its inode or ctime, which no
    tool can set back, so no versioned url is served other bytes as ``immutable``. A
    file whose times are within :data:`SETTLED_AFTER_NS` of the clock is hashed on each
    call until they are not: rewritten within its filesystem's tick, it keeps them all.
    The file is read whole: a large one costs its read (docs/early-hints.md). Raises
    :class:`OSError` if it cannot be read, :class:`IsADirectoryError` for anything but a
    regular file.
    """
    return _known_version(path).version


def _known_version(path: str) -> _KnownVersion:
    """:func:`file_version`'s version with the stamp of the file it hashed: another
    thread may store another file's in the cache meanwhile (one it read before a deploy
    renamed the new file into place), so what was hashed is asked of this one."""
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise IsADirectoryError(f"not a regular file: {path}")
    known = _versions.get(path)
    if known is not None and known.settled and known.stamp == _stamp(info):
        return known
    digest = hashlib.blake2b(digest_size=5)
    # Before the stamp is taken: a write after this moment gets a time of its own tick.
    now = time_ns()
    with open(path, "rb") as file:
        # The stamp of the file read, not of the one stat() found: a deploy may replace
        # it in between (a symlink flipped), and that stamp would name these bytes once
        # the old file is back (a rollback).
        stamp = _stamp(os.fstat(file.fileno()))
        while chunk := file.read(1 << 16):
            digest.update(chunk)
    version = digest.hexdigest()
    # A time far ahead of the clock (touch -d) is no more a rewrite's than one far behind.
    _, _, mtime_ns, ctime_ns = stamp
    settled = all(abs(now - time) >= SETTLED_AFTER_NS for time in (mtime_ns, ctime_ns))
    if known is None and len(_versions) >= MAX_VERSIONED_FILES:  # a changed file keeps its place
        _versions.clear()
    hashed = _versions[path] = _KnownVersion(stamp, version, settled)
    return hashed


def _stamp(info: os.stat_result) -> _Stamp:
    """What changes when a file's bytes do: its inode, size, modification and status
    change times."""
    return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


@dataclass(frozen=True)
class _StaticLink:
    """One static file's push: everything the Link header and the element share."""

    url: str
    rel: str
    as_: str | None
    flags: tuple[str, ...]
    params: dict[str, str]
    #: The static endpoint (absolute) and file name the url names, and the file's version
    #: when pushed.
    file: tuple[str, str]
    version: str
    #: ``defer`` and ``async``: written on the element, not in the ``Link`` header.
    element_flags: tuple[str, ...] = ()
    #: The call the app wrote, which an error names (:func:`_read_arguments`).
    caller: str = "push_static"


@dataclass(frozen=True)
class _UrlOptions:
    """``url_for``'s own keywords, given to :func:`push_static` as to ``url_for``
    (``_external=True``: an absolute url), never written as ``Link`` parameters."""

    external: bool | None = None
    scheme: str | None = None
    anchor: str | None = None
    method: str | None = None


@dataclass(frozen=True)
class _StaticArguments:
    """:func:`push_static`'s arguments as its link says them, read without an app: what
    :func:`_versioned` makes a :class:`_StaticLink` of in a request."""

    filename: str
    #: As given: ``".static"`` is the blueprint's of the request.
    endpoint: str
    rel: str
    as_: str | None
    flags: tuple[str, ...]
    params: dict[str, str]
    element_flags: tuple[str, ...]
    url_options: _UrlOptions
    #: The call the app wrote, which an error names (:func:`_read_arguments`).
    caller: str


def _read_arguments(
    filename: str,
    flags: tuple[str, ...],
    endpoint: str,
    as_: str | None,
    given: dict[str, str | float | None],
    url_options: _UrlOptions,
    caller: str,
) -> _StaticArguments:
    """The arguments of ``caller`` (``"push_static"``, ``"static_tag"``, ``"hints_static"``)
    read as :func:`~.collect.push` reads them: the ``rel``, ``as`` and ``type`` the file's
    extension calls for unless ``rel`` or ``as`` is given, ``crossorigin`` for a font or a
    fetch unless one is named, and ``defer`` and ``async`` set apart for the element.

    Checked without a request: raises :class:`ValueError` for a file name or endpoint that
    is not a str, a ``url_for`` keyword of another type than it takes, a ``_scheme`` with
    ``_external=False`` (which url_for refuses), or an extension it cannot tell, naming
    ``caller`` (the call the app wrote); for an argument never set in the template, naming
    the argument;
    :class:`TypeError` for a ``version=``."""
    for argument, value in (("filename", filename), ("endpoint", endpoint)):
        refuse_undefined(argument, value)
        if not isinstance(value, str):  # a template's number, None or list
            raise ValueError(f"{caller}()'s {argument} must be a str, got {value!r}")
    options = url_options
    for argument, option, taken in (
        ("_external", options.external, bool),
        ("_scheme", options.scheme, str),
        ("_anchor", options.anchor, str),
        ("_method", options.method, str),
    ):
        refuse_undefined(argument, option)  # url_for would read it as false, or as ""
        if option is not None and not isinstance(option, taken):
            # url_for reads any _external as true or false ("false" as true), any _scheme
            # but "https" as "http", and fails on an _anchor not a str deep in its quoting,
            # on a list as unhashable: for hints_static, in every request of the view.
            said = "a str" if taken is str else "True or False"
            raise ValueError(f"{caller}()'s {argument} must be {said}, got {option!r}")
    if options.scheme is not None and options.external is False:
        # url_for refuses it in every app and request: for hints_static, each app's first
        # request of the view logged it and left the link out.
        raise ValueError(
            f"{caller}()'s _scheme makes an absolute url: give _external=True or leave it "
            "out, got False"
        )
    if "version" in given:  # push()'s own, which would be given twice
        raise TypeError(
            f"{caller}() makes the version from the file's bytes: it takes no version="
        )
    crossorigin_named = names_crossorigin((*flags, *given))
    # Read as push() reads them ("as=fetch", AS=, crossorigin=True), names in lower case
    # (RFC 8288 §3), so the element below is written from what the Link header says.
    flags, named = as_written(flags, tuple(given.items()))
    flags = tuple(
        "crossorigin" if isinstance(flag, str) and flag.lower() == "crossorigin" else flag
        for flag in flags
    )
    params: dict[str, str] = {
        ascii_lower(name) if isinstance(name, str) else name: value for name, value in named
    }
    spelled_as = params.pop("as", None)
    as_ = read_as(as_)  # as push() reads it
    as_ = as_ if as_ is not None else spelled_as
    rel = params.pop("rel", None)
    # In lower case, as the element below is chosen by them (RFC 8288 §2.1.1, §3), and a
    # rel's relations as push() reads them (split on ASCII whitespace, one space apart):
    # rel="preload\n" is a lone preload, whose style is a stylesheet, not a preload. One
    # of no relations ("", a template variable's default) is none, as push() reads it:
    # the row's, not a rel given.
    as_ = as_.lower() if isinstance(as_, str) else as_
    rel = (" ".join(split_rel(rel)) or None) if isinstance(rel, str) else rel
    if as_ is None and rel is None:
        # Only when the caller names neither: an explicit as_ or rel replaces the whole row.
        kind = KINDS.get(os.path.splitext(filename)[1][1:].lower())
        if kind is None:
            raise ValueError(
                f"{caller}() cannot tell how to preload {filename!r} from its extension: "
                "pass as_= (as= in a template), e.g. as_='fetch'"
            )
        as_, rel = kind.as_, kind.rel
        if kind.type is not None:
            params.setdefault("type", kind.type)
    if isinstance(as_, str) and as_.lower() in CORS_MODE and not crossorigin_named:
        flags = (*flags, "crossorigin")  # as push() writes it, for the element to repeat
    if (
        _lower(as_) == "script"
        and _lower(rel) in ("", "preload")
        and _lower(params.get("type")).strip(_ASCII_WHITESPACE) == "module"
    ):
        # A module is preloaded with modulepreload (HTML Standard): Chromium refuses
        # `type=module` on a preload, and the module fetched again.
        as_, rel = None, "modulepreload"
    if _lower(rel) == "modulepreload":
        params.pop("type", None)  # a module's, which modulepreload takes without saying
    # defer and async, as flags or keywords (defer="defer"), once each, on the element.
    element_flags = tuple(
        dict.fromkeys(
            [_lower(flag) for flag in flags if _lower(flag) in _ELEMENT_FLAGS]
            + [name for name in _ELEMENT_FLAGS if params.pop(name, None) is not None]
        )
    )
    flags = tuple(flag for flag in flags if _lower(flag) not in _ELEMENT_FLAGS)
    # Told by the call the app wrote: hints_static() checks its link on a stand-in url.
    tell_unfetched_as(f"{caller}({filename!r})", as_, rel or "preload")
    return _StaticArguments(
        filename,
        endpoint,
        rel or "preload",
        as_,
        flags,
        params,
        element_flags,
        url_options,
        caller,
    )


def _versioned(arguments: _StaticArguments) -> _StaticLink | None:
    """The link ``arguments`` say in this request: the file's version, and its url as
    ``url_for`` builds it here (the request's script root, its host for ``_external``).

    None in a request whose ``Host`` Flask refused (outside ``TRUSTED_HOSTS``): Flask has
    no url adapter for it, so its ``url_for`` fails there (AttributeError), and it answers
    the request 400 once every ``before_request`` hook has run. So :func:`push_static`
    returns ``""`` and :func:`static_tag` writes no element: neither pushes nor raises,
    and the app's later hooks and its 400 page run as in Flask."""
    endpoint, filename, options = arguments.endpoint, arguments.filename, arguments.url_options
    file = (_absolute_endpoint(endpoint), filename)
    version = _static_version(current_app, *file, arguments.caller)
    try:
        url = url_for(
            endpoint,
            filename=filename,
            v=version,
            _anchor=options.anchor,
            _method=options.method,
            _scheme=options.scheme,
            _external=options.external,
        )
    except BuildError as e:
        _refuse_url_values_given(arguments, file[0], e)
        raise
    except AttributeError:
        if not _host_refused():
            raise
        return None
    return _StaticLink(
        url,
        arguments.rel,
        arguments.as_,
        arguments.flags,
        arguments.params,
        file,
        version,
        arguments.element_flags,
        arguments.caller,
    )


def _host_refused() -> bool:
    """Whether Flask refused the request's ``Host``, asked only where ``url_for`` failed:
    Werkzeug reads it again, and refuses it again."""
    if not has_request_context():
        return False
    try:
        request.host  # noqa: B018  # read for its SecurityError alone
    except SecurityError:
        return True
    return False


def _lower(text: object) -> str:
    """``text`` in lower case if it is a str; else "" (what a template may pass)."""
    return text.lower() if isinstance(text, str) else ""


def _refuse_url_values_given(arguments: _StaticArguments, endpoint: str, e: BuildError) -> None:
    """Raise :class:`ValueError` when the url ``url_for`` could not build lacks a value
    the call gave as a keyword (``lang_code="de"`` for a blueprint under
    ``url_prefix="/<lang_code>"``): that keyword is a ``Link`` parameter here, and the
    BuildError asks "Did you forget to specify values" of a value the app did give. Not
    when url_for had that value (a ``url_defaults`` function fills ``lang_code``): its
    error is another (a ``_method`` the static view does not take), url_for's to say."""
    try:
        rules = list(current_app.url_map.iter_rules(endpoint))
    except KeyError:  # no rule has that endpoint: url_for's own error says so
        return
    arguments_of_rules = set().union(*(rule.arguments for rule in rules))
    given = sorted(arguments_of_rules.intersection(arguments.params).difference(e.values))
    if given:
        what = (
            "is a Link parameter here, not a url value"
            if len(given) == 1
            else "are Link parameters here, not url values"
        )
        raise ValueError(
            f"{arguments.caller}(): {', '.join(map(repr, given))} {what} (url_for is given "
            f"only the file name and its own _keywords): fill the url's values with a "
            f"url_defaults function (Flask's URL processors)"
        ) from e


def _absolute_endpoint(endpoint: str) -> str:
    """``endpoint`` with a leading ``.`` resolved against the request's blueprint."""
    if endpoint.startswith(".") and has_request_context() and request.blueprint:
        return request.blueprint + endpoint
    return endpoint.lstrip(".")


def _static_version(app: Flask, endpoint: str, filename: str, caller: str = "push_static") -> str:
    """The version (:func:`file_version`) of the file ``filename`` names under
    ``endpoint``'s static folder.

    Raises :class:`ValueError`, naming ``caller`` (the call the app wrote), for an
    endpoint that is not a static one, or a file that is not there: a typo is caught at
    the call, in development, rather than as a 404 later; for one the app's user cannot
    read, saying why (``Permission denied``).
    """
    _, known = _static_file(app, endpoint, filename, caller)
    return known.version


#: What :func:`_known_version` raises for a name no regular file answers to: nothing there,
#: a file where the path names a folder, a folder or other non-file in its place
#: (:class:`IsADirectoryError`), a NUL (:class:`ValueError`), which no file name holds.
_MISSING = (FileNotFoundError, NotADirectoryError, IsADirectoryError, ValueError)


def _static_file(
    app: Flask, endpoint: str, filename: str, caller: str = "push_static"
) -> tuple[str, _KnownVersion]:
    """The path of the file :func:`_static_version` names, and its version with the stamp
    of the file hashed; raises as it does."""
    folder = _static_folder(app, endpoint, caller)
    path = safe_join(folder, filename)
    if path is None:
        raise ValueError(f"{caller}(): {filename!r} is not a file name under {folder!r}")
    try:
        return path, _known_version(path)
    except _MISSING as e:
        where = _blueprint_serving(app, endpoint, filename)
        raise ValueError(f"{caller}(): no static file {filename!r} in {folder}{where}") from e
    except OSError as e:
        # The file is there, and the app's user may not read it (a deploy's mode 0600):
        # called missing, it sent one looking for a file that is in its place.
        raise ValueError(
            f"{caller}(): cannot read the static file {filename!r} in {folder}: {e.strerror}"
        ) from e


def _blueprint_serving(app: Flask, endpoint: str, filename: str) -> str:
    """Said of a file the app's static folder lacks and the request's blueprint's holds:
    ``"static"`` names the app's folder wherever the template is, as ``url_for`` does, so
    a blueprint's template names its own with ``endpoint=".static"``. Else ``""``."""
    blueprint = request.blueprint if endpoint == "static" and has_request_context() else None
    owner = app.blueprints.get(blueprint) if blueprint else None
    folder = owner.static_folder if owner is not None else None
    path = safe_join(folder, filename) if folder is not None else None
    if path is None or not os.path.isfile(path):
        return ""
    return f" (the blueprint {blueprint!r} serves it: endpoint='.static')"


def versions_current(app: Flask, keys: Iterable[str]) -> bool:
    """Whether each of ``keys`` that :func:`push_static` pushed in ``app`` still names the
    version of its file there: a page's learned 103 holds the versioned urls of its last
    response, and a file changed since (a deploy) must not be hinted, and pushed, at its
    old url. A key of any other push (another app's included) is current."""
    pushed = _pushed_files.get(app)
    if pushed is None:
        return True
    for key in keys:
        file = pushed.files.get(key)
        if file is not None:
            try:
                if _static_version(app, *file) != key_version(key):
                    return False
            except ValueError:  # gone: its url serves nothing now
                return False
    return True


def _static_folder(app: Flask, endpoint: str, caller: str = "push_static") -> str:
    """The folder Flask's static view ``endpoint`` serves: the app's (``"static"``) or a
    blueprint's (``"<name>.static"``). Raises :class:`ValueError` for any other endpoint,
    naming ``caller``."""
    blueprint, _, view = endpoint.rpartition(".")
    if view != "static":
        raise ValueError(
            f"{caller}() serves the static endpoints ('static', 'bp.static'), not {endpoint!r}"
        )
    owner = app.blueprints.get(blueprint) if blueprint else None
    if blueprint and owner is None:
        raise ValueError(f"{caller}(): no blueprint {blueprint!r} for endpoint {endpoint!r}")
    folder = owner.static_folder if owner is not None else app.static_folder
    if folder is None:  # Flask then has no such static endpoint either
        whose = f"blueprint {blueprint!r}" if owner is not None else "the app"
        raise ValueError(f"{caller}(): {whose} has no static_folder (endpoint {endpoint!r})")
    return folder


def named_static(endpoint: str | None) -> TypeGuard[str]:
    """Whether ``endpoint`` is named as Flask names a static view: ``"static"``, or a
    blueprint's ``"<name>.static"`` (whether it is one: :func:`serves_static_file`); not
    None, a request no url rule matched. Only such a view serves a static file: the
    static rules are asked of no other request."""
    return endpoint is not None and (endpoint == "static" or endpoint.endswith(".static"))


def serves_static_file(app: Flask, endpoint: str | None) -> bool:
    """Whether ``endpoint`` is Flask's static view, the app's or a blueprint's (a view of
    another's own that is merely named ``static`` is not)."""
    if not named_static(endpoint):
        return False
    try:
        _static_folder(app, endpoint)
    except ValueError:
        return False
    return True


def asks_static_file(app: Flask, req: Request) -> bool:
    """Whether ``req`` asks Flask's static view (:func:`serves_static_file`) for a file its
    folder has: what answers it is that file, or a hook's answer in its place, never a
    page of the site. A url naming no file there is answered by the app's 404 handler,
    which may serve a page: a single-page app's index at every deep link, its static
    folder served at the root (``static_url_path=""``)."""
    endpoint = req.endpoint
    if endpoint is None or not serves_static_file(app, endpoint):
        return False
    filename = (req.view_args or {}).get("filename")
    if not isinstance(filename, str):
        return True  # not Flask's own rule for it: taken for a file
    path = safe_join(_static_folder(app, endpoint), filename)
    # As send_from_directory looks for it: a path outside the folder, or no regular file
    # there (a directory, nothing), is a 404.
    return path is not None and os.path.isfile(path)


def push_static(
    filename: str,
    *flags: str,
    endpoint: str = "static",
    as_: str | None = None,
    learn: bool = True,
    _external: bool | None = None,
    _scheme: str | None = None,
    _anchor: str | None = None,
    _method: str | None = None,
    **params: str | float | None,
) -> str:
    """Push the static file ``filename`` by its content; return its versioned url.

    The url is ``url_for(endpoint, filename=filename, v=<version>)``, the version a hash of
    the file's bytes (:func:`file_version`); ``endpoint`` may be a blueprint's
    (``"admin.static"``), whose ``static_folder`` holds the file. ``as`` and ``type`` come
    from the extension (:data:`KINDS`) unless the caller passes ``as_`` or ``rel``, which
    replace them (a ``rel`` of no relations, ``""``, is none, as :func:`~.push` reads
    it); ``type=`` is the caller's when given (but a modulepreload takes none).
    A font or a fetch gets
    ``crossorigin`` unless the caller gives one (``crossorigin=None``: none). A script of
    ``type="module"`` is a ``rel=modulepreload``. ``_external``, ``_scheme``, ``_anchor``
    and ``_method`` are ``url_for``'s (``_external=True``: an absolute url, which push
    proxies do not push: it is preloaded ``nopush``). Other arguments are :func:`~.push`'s,
    but for ``version``: the file's, never the caller's (:class:`TypeError`).

    Raises :class:`ValueError` for a file name or endpoint that is not a str, an extension
    it cannot tell (pass ``as_``), an endpoint that is not a static one (a blueprint
    without a ``static_folder`` has none), a missing file or one it cannot read, or a
    url Flask routes to another view that serves other bytes there (a blueprint without
    a ``url_prefix`` whose static url is the app's).
    """
    url_options = _UrlOptions(_external, _scheme, _anchor, _method)
    arguments = _read_arguments(
        filename, flags, endpoint, as_, dict(params), url_options, "push_static"
    )
    link = _versioned(arguments)
    if link is None:
        return ""
    _push(link, learn)
    return link.url


def static_tag(
    filename: str,
    *flags: str,
    endpoint: str = "static",
    as_: str | None = None,
    learn: bool = True,
    _external: bool | None = None,
    _scheme: str | None = None,
    _anchor: str | None = None,
    _method: str | None = None,
    **params: str | float | None,
) -> Markup:
    """:func:`push_static`, and the element that uses the file, with the same attributes.

    A stylesheet is ``<link rel="stylesheet">``, a script ``<script src>``, a module
    (``.mjs``, ``rel="modulepreload"`` or ``type="module"``) ``<script type="module">``;
    anything else (fonts, images, JSON) a ``<link rel="preload">`` like the header's. The
    element repeats the push's ``crossorigin`` and its ``media``, ``integrity``,
    ``referrerpolicy``, ``fetchpriority`` and ``nonce`` (a preload its ``imagesrcset`` and
    ``imagesizes`` too). The ``Link`` holds only what a preload reads
    (:data:`_LINK_ATTRIBUTES`); every other attribute given (``defer``, ``id``,
    ``title``, ``data-turbo-track``) is the element's alone, written as given, escaped, as
    if by hand: one the element ignores too, as the browser ignores it. A classic
    script's ``nomodule`` is its element's alone, and no ``Link`` names the file
    (:func:`~.push`). So is a value the element writes that holds a ``,`` or ``;`` (a
    ``media`` list, an ``imagesrcset`` of two candidates, an ``imagesizes``), which push
    proxies read as the end of the link whatever the quotes (``push()`` and
    :func:`push_static` refuse it): the element carries it, and no ``Link`` names the file,
    so it is not pushed, recorded or hinted (a ``DEBUG`` log line says so). Raises
    :class:`ValueError` naming what would make the page wrong:
    ``nomodule`` on any other element (a module runs in every browser that runs
    modules), a script ``type`` that is neither JavaScript nor ``module`` (a data block,
    never run), a name that would end the attribute or the tag (``a b``, ``x"``), the url
    attribute the element writes itself (a script's ``src``, a ``<link>``'s ``href``: a
    second one is a duplicate the HTML parser drops), a value holding a ``,`` or ``;``
    that the element does not write (an ``imagesrcset`` on a stylesheet: lost with the
    ``Link``), a ``media`` on a script (HTML has none: a script runs on every medium), and
    what ``push()`` refuses of any other (a ``"``, a non-ASCII character).
    """
    url_options = _UrlOptions(_external, _scheme, _anchor, _method)
    arguments = _read_arguments(
        filename, flags, endpoint, as_, dict(params), url_options, "static_tag"
    )
    link = _versioned(arguments)
    if link is None:
        return Markup("")
    classic_script = link.rel == "preload" and link.as_ == "script"
    nomodule = "nomodule" in link.params or any(_lower(flag) == "nomodule" for flag in link.flags)
    if nomodule and not classic_script:
        # A module script runs in every browser that runs modules, nomodule or not (HTML
        # Standard), and a <link> takes none: no browser would be told the file is legacy.
        raise ValueError(
            f"static_tag(): nomodule is a classic script's, and {filename!r} is not written "
            "as one: drop nomodule, or pass as_='script' for a legacy bundle"
        )
    link, bare, own_attributes = _element_attributes(link, classic_script)
    split = _split_values(link, classic_script)
    # One given bare (media=True, an "integrity" flag) is bare in the Link: the element
    # says it so too, an empty value either way.
    bare_in_link = {_lower(flag) for flag in link.flags}
    if (classic_script or link.rel == "modulepreload") and (
        "media" in link.params or "media" in bare_in_link
    ):
        # A script runs on every medium: <script media="print"> read as print's alone, and
        # its preload fetched it for print alone.
        element = "<script>" if classic_script else '<script type="module">'
        raise ValueError(
            f"static_tag(): a {element} takes no media (HTML has none: it runs on every "
            "medium): drop media, or use push_static() and write the element by hand"
        )
    if split:
        # The element carries them, as for a nomodule script: no Link names the file.
        # What push() checks of the rest is checked all the same.
        linked = {name: value for name, value in link.params.items() if name not in split}
        _resource(replace(link, params=linked), learn)
        log.debug(
            "firehose: %s has a ',' or ';' in %s, which no Link carries whole: written on its "
            "element alone, static_tag links, pushes, hints and records none of it",
            for_log(link.url),  # maybe made of a request's text
            " and ".join(split),
        )
    else:
        _push(link, learn)  # a nomodule script's: linked nowhere (push())
    attributes = bare
    crossorigin = link.params.get("crossorigin")
    if crossorigin is not None:
        attributes += f' crossorigin="{escape(crossorigin)}"'
    elif "crossorigin" in link.flags:
        attributes += " crossorigin"
    for name in _MIRRORED:
        if name in link.params:
            attributes += f' {name}="{escape(link.params[name])}"'
        elif name in bare_in_link:
            attributes += f" {name}"
    src = escape(link.url)
    attributes += own_attributes
    if link.rel == "modulepreload":
        return Markup(f'<script type="module" src="{src}"{attributes}></script>')
    if link.rel == "preload" and link.as_ == "style":
        return Markup(f'<link rel="stylesheet" href="{src}"{attributes}>')
    if classic_script:
        return Markup(f'<script src="{src}"{attributes}></script>')
    head = f'<link rel="{escape(link.rel)}" href="{src}"'
    if link.as_ is not None:
        head += f' as="{escape(link.as_)}"'
    for name in ("type", *_PRELOAD_MIRRORED):
        if name in link.params:
            head += f' {name}="{escape(link.params[name])}"'
        elif name in bare_in_link:
            head += f" {name}"
    return Markup(f"{head}{attributes}>")


def _split_values(link: _StaticLink, classic_script: bool) -> tuple[str, ...]:
    """The names of ``link``'s parameters whose value holds a ``,`` or ``;``, which no
    ``Link`` carries whole (:func:`~.links.split_by_proxies`), and :func:`static_tag`
    writes on its element alone. Raises what ``push()`` raises for such a value's other
    characters (a ``"``, a control or non-ASCII one), and :class:`ValueError` for one the
    element does not write (an ``imagesrcset`` on a stylesheet): it would be lost with the
    ``Link``."""
    split = tuple(name for name, value in link.params.items() if split_by_proxies(value))
    if not split:
        return split
    # Which element static_tag writes, and which split values it may carry in the
    # Link's place: on every element the mirrored ones, but on a script no media (HTML
    # has none on <script>); on a <link> of the header's own rel (a preload but a
    # style's, which is written rel="stylesheet"; a prefetch), its type and image
    # candidates too.
    written = {"crossorigin", "nomodule", *_MIRRORED}
    if link.rel == "modulepreload" or classic_script:
        element = '<script type="module">' if link.rel == "modulepreload" else "<script>"
        written.discard("media")
    elif link.rel == "preload" and link.as_ == "style":
        element = '<link rel="stylesheet">'
    else:
        element = f'<link rel="{link.rel}">'
        written.update(("type", *_PRELOAD_MIRRORED))
    for name in split:
        value = link.params[name]
        check_value(name, value, split_ok=True)
        if name not in written:
            raise ValueError(
                f"static_tag(): {name} {value!r} holds a ',' or ';', which no Link carries "
                f"whole (push proxies end the link there), and a {element} takes no {name}: "
                "drop it, or write the element by hand"
            )
    return split


def _element_attributes(link: _StaticLink, classic_script: bool) -> tuple[_StaticLink, str, str]:
    """``link`` with :data:`_LINK_ATTRIBUTES` alone (and ``nomodule``, for :func:`~.push` to
    link nothing of a legacy bundle), and every other attribute given as the element
    writes it: the bare ones, then those with a value, each once, in lower case, in the
    order given (a ``""`` value bare: the same to the page). Raises :class:`ValueError`
    naming a name no attribute can have, a value that is not a str (a template's list),
    the element's own url attribute (``src`` or ``href``), or a classic script ``type``
    that makes a data block, which the browser never runs."""
    script_type = link.params.get("type")
    if (
        classic_script
        and isinstance(script_type, str)
        and script_type.strip(_ASCII_WHITESPACE).lower() not in _CLASSIC_SCRIPT_TYPES
    ):
        raise ValueError(
            f"static_tag(): type {script_type!r} is no JavaScript type: a <script> of it "
            "is a data block, which the browser never runs (type='module': a module)"
        )
    # Where the element static_tag writes names the file: a script's src, a <link>'s href.
    url_attribute = "src" if classic_script or link.rel == "modulepreload" else "href"
    own: dict[str, str] = {}
    flags = [(flag, "") for flag in link.flags]
    element_flags = [(flag, "") for flag in link.element_flags]
    for name, value in (*flags, *link.params.items(), *element_flags):
        if not isinstance(name, str):  # a template's number or list: push() refused it
            raise ValueError(f"static_tag(): a flag must be a str, got {name!r}")
        if ascii_lower(name) in _LINK_ATTRIBUTES:
            continue
        if not name or _NOT_IN_AN_ATTRIBUTE_NAME.search(name):
            raise ValueError(
                f"static_tag(): {name!r} is no attribute name: it would end the attribute "
                "or the element"
            )
        if not isinstance(value, str):  # a template's list or dict, a Decimal
            hint = other_number(value, str)  # as push() says it of a Link parameter
            raise ValueError(f"static_tag(): {name} must be a str, got {value!r}{hint}")
        if ascii_lower(name) == url_attribute:
            # Written after the element's own, it is a duplicate the HTML parser drops:
            # the url given would never be used.
            raise ValueError(
                f"static_tag(): {url_attribute} is the file's url, which static_tag writes "
                "itself (the versioned one): drop it, or write the element by hand"
            )
        own.setdefault(ascii_lower(name), value)
    bare = "".join(f" {name}" for name, value in own.items() if not value)
    valued = "".join(f' {name}="{escape(value)}"' for name, value in own.items() if value)
    for_link = (*_LINK_ATTRIBUTES, "nomodule")
    params = {name: value for name, value in link.params.items() if name in for_link}
    kept = tuple(flag for flag in link.flags if _lower(flag) in for_link)
    return replace(link, params=params, flags=kept), bare, valued


def _push(link: _StaticLink, learn: bool) -> None:
    resource = _resource(link, learn)
    if resource is not None:
        record_push(resource)


def _resource(link: _StaticLink, learn: bool) -> Resource | None:
    """What :func:`~.collect.push` records for ``link``; in a request, its url is checked
    (:func:`_check_routed`) and remembered for :func:`versions_current`, once per url and
    file. None for a url that a prefix a client sent through ProxyFix starts with a
    special scheme without ``//`` (``http:x/static/a.css``), which push() refuses as an
    app's own: the page's element names it as ``url_for`` wrote it, no link does."""
    if scheme_without_slashes(link.url):
        log.debug(
            "firehose: %s has a scheme without '//' from its script root: not linked, "
            "pushed, hinted or recorded",
            for_log(link.url),  # made of a request's text
        )
        return None
    params = _push_params(link.rel, link.flags, link.params)
    key = resource_key(format_url(link.url), link.version)  # as push() keys it
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    pushed = _pushed_files.get(app)
    # New to this app, or another file at its url; outside a request push() records
    # nothing, and nothing is kept.
    if (pushed is None or pushed.files.get(key) != link.file) and has_request_context():
        _check_routed(app, link)
        _remember_pushed_file(app, key, link.file)
    return resource_of(link.url, link.flags, link.as_, link.version, learn, params)


def _push_params(
    rel: str, flags: tuple[str, ...], params: dict[str, str]
) -> dict[str, str | None]:
    """The keywords :func:`~.collect.push` is given for a static link's ``params``."""
    keywords: dict[str, str | None] = {**params}
    if rel != "preload":
        keywords["rel"] = rel
    if "crossorigin" not in flags and "crossorigin" not in keywords:
        # _read_arguments already added crossorigin where it belongs, and the element
        # repeats what it decided: crossorigin=None keeps push() from adding its own.
        keywords["crossorigin"] = None
    return keywords


@dataclass(frozen=True, eq=False)
class StaticHint:
    """A static file a view declares by name (``Firehose.hints_static``): its arguments,
    read and checked as the module loads; its version and url are made in each request.
    Each declaration is its own (compared and hashed by identity)."""

    arguments: _StaticArguments
    learn: bool


def static_hint(
    filename: str,
    flags: tuple[str, ...],
    endpoint: str,
    as_: str | None,
    learn: bool,
    params: dict[str, str | float | None],
    _external: bool | None = None,
    _scheme: str | None = None,
    _anchor: str | None = None,
    _method: str | None = None,
) -> StaticHint | None:
    """The declaration of what :func:`push_static` would push for these arguments; None
    for a legacy bundle (``nomodule``), which it links nowhere. Raises what it raises for
    its arguments alone; a missing file or an endpoint that is not a static one only a
    request can tell (:func:`static_hint_resource`)."""
    url_options = _UrlOptions(_external, _scheme, _anchor, _method)
    arguments = _read_arguments(
        filename, flags, endpoint, as_, dict(params), url_options, "hints_static"
    )
    # push()'s checks of the flags and parameters, on a stand-in for the url: only a
    # request can build that (its script root, its host).
    named = _push_params(arguments.rel, arguments.flags, arguments.params)
    # A bare nonce first: make_resource() refuses it as push()'s, saying to give the
    # response's, which a declaration cannot.
    _refuse_declared_nonce(bare_per_request(arguments.flags))
    stand_in = make_resource("/", arguments.flags, arguments.as_, None, (*named.items(),), learn)
    _refuse_declared_nonce(stand_in.per_request)
    return None if stand_in.legacy_only else StaticHint(arguments, learn)


def _refuse_declared_nonce(nonce: bool) -> None:
    """Raise :class:`ValueError` for a ``hints_static`` declaring a ``nonce``, of a value
    or bare: a CSP nonce is new for each response, and a declaration is made once."""
    if nonce:
        raise ValueError(
            "hints_static(): a nonce is made for each response, and a declaration once: "
            "declare the file without it, and write it with static_tag(..., nonce=...) "
            "(docs/how-it-works.md, Beside a Content-Security-Policy)"
        )


#: The declarations :func:`static_hint_resource` could make no link of, by app, with the
#: view declaring each: told once each.
_told_unmade: weakref.WeakKeyDictionary[Flask, set[tuple[str, StaticHint]]] = (
    weakref.WeakKeyDictionary()
)


def static_hint_resource(hint: StaticHint, view: str) -> Resource | None:
    """What :func:`push_static` would record for ``hint`` in this request: the file's
    current version, at the url ``static_tag`` writes for it. None for a missing file, or
    an endpoint that is not a static one, or a url ``url_for`` cannot build: the page is
    served without it (what its own ``static_tag`` of the file raises is its view's), and
    an ERROR log line, once for each app, names the ``view`` (its endpoint) that declared
    it and the reason."""
    try:
        link = _versioned(hint.arguments)
        return None if link is None else _resource(link, hint.learn)
    except (ValueError, BuildError) as e:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        told = _told_unmade.setdefault(app, set())
        if (view, hint) not in told:
            told.add((view, hint))
            log.error(
                "firehose: view %r declares %r with hints_static(), left out of its links: %s",
                view,
                hint.arguments.filename,
                e,
            )
        return None


def _check_routed(app: Flask, link: _StaticLink) -> None:
    """Raise :class:`ValueError` if Flask routes ``link``'s url to a view other than the
    static endpoint it was built for, which does not serve the same bytes there: a
    blueprint registered without a ``url_prefix`` whose static url is the app's
    (``/static``) has files no url reaches (Flask's docs), and its link named the app's
    file of that name, or a 404. The app's copy of the same file serves the same bytes.
    Asked once per url and file (:func:`_resource`), as Flask routes a request for it, on
    its host; a url Flask does not route to one view (a redirect, a 404) is left as
    url_for built it."""
    try:
        parts = urlsplit(link.url)
    except ValueError:
        # A host it cannot read (brackets, from a prefix a client sent through ProxyFix:
        # //[/static/...): push() links it nopush, as another origin's url.
        return
    root = request.script_root  # as url_for writes it: unquoted (Werkzeug's MapAdapter)
    if not parts.path.startswith(f"{root}/"):
        return
    environ = dict(request.environ)
    if parts.netloc:  # _external=True, or a blueprint's subdomain
        environ.update({"HTTP_HOST": parts.netloc, "wsgi.url_scheme": parts.scheme})
    # A WSGI PATH_INFO: the url's bytes, unquoted, as latin-1 (PEP 3333).
    environ["PATH_INFO"] = unquote_to_bytes(parts.path[len(root) :]).decode("latin-1")
    try:
        adapter = app.create_url_adapter(app.request_class(environ))
        if adapter is None:
            return
        routed, view_args = adapter.match(method="GET")
    except HTTPException:
        return
    if routed == link.file[0]:
        return
    filename = view_args.get("filename")
    if serves_static_file(app, routed) and isinstance(filename, str):
        try:
            if _static_version(app, routed, filename) == link.version:
                return
        except ValueError:  # no such file there: a 404
            pass
    if link.file[0] == "static" and not serves_static_file(app, routed):
        # No blueprint here: a view of the app's own whose rule is the file's url.
        change = "give the view or the file another url"
    else:
        change = "give the blueprint a url_prefix or a static_url_path of its own"
    raise ValueError(
        f"{link.caller}(): Flask routes {parts.path} to {routed!r}, not to {link.file[0]!r}, "
        f"whose file it names, and serves other bytes there: {change}"
    )


def _remember_pushed_file(app: Flask, key: str, file: tuple[str, str]) -> None:
    """Note that in ``app`` the url keyed ``key`` names ``file`` (its static endpoint and
    file name), within both bounds. Another endpoint at a url (the app's own static url
    named by a blueprint's ``static_url_path`` too) takes its entry's place: no key is
    deleted but by emptying the dict, so a place is a :data:`~.sizes.DICT_SLOT` (a key
    deleted and added again would leave its old place behind until the table is resized:
    a :data:`~.sizes.CHURNED_DICT_SLOT`)."""
    size = _pushed_file_size(key, file)
    if size > MAX_PUSHED_FILES_BYTES:
        # Larger than the bound on its own (a name a client sent): not kept, so its url is
        # taken for current, as any url is once the map is emptied.
        return
    with _pushed_files_lock:
        pushed = _pushed_files.get(app)
        if pushed is None:
            pushed = _pushed_files[app] = _PushedFiles()
        old = pushed.files.get(key)
        if old is not None:  # another file at that url, or this one stored meanwhile
            pushed.size -= _pushed_file_size(key, old)
        no_place = old is None and len(pushed.files) >= MAX_VERSIONED_FILES
        if no_place or pushed.size + size > MAX_PUSHED_FILES_BYTES:
            pushed.files.clear()
            pushed.size = 0
        pushed.files[key] = file
        pushed.size += size


def _pushed_file_size(key: str, file: tuple[str, str]) -> int:
    """What one entry of an app's :class:`_PushedFiles` keeps alive: its tuple, its
    strings (each as if the entry alone held it) and its dict slot."""
    endpoint, filename = file
    return (
        sys.getsizeof(key)
        + sys.getsizeof(file)
        + sys.getsizeof(endpoint)
        + sys.getsizeof(filename)
        + DICT_SLOT
    )


def cache_versioned_static(app: Flask, req: Request, response: Response) -> Response:
    """Serve a static file asked for by its current version as :data:`IMMUTABLE`.

    Part of the extension's ``after_request`` step: any other request costs a look at
    ``req.endpoint``. A static response (``"static"`` or a blueprint's ``"<name>.static"``)
    whose ``v`` is the file's current version, and which is that file (:func:`_sends_file`,
    and the file :func:`note_static_file` found before the view opened it), cannot change
    behind that url; any other keeps the app's ``Cache-Control``
    (``SEND_FILE_MAX_AGE_DEFAULT``). So does one the app (a
    blueprint's ``after_request`` hook) marked ``no-store``; one it marked ``private`` stays
    private (:data:`PRIVATE_IMMUTABLE`): a shared cache must not keep a signed-in user's file.
    One served :data:`IMMUTABLE` is made private too if it sets a cookie, as it starts
    (:func:`private_if_cookie`, called by the extension's wrapper when this step has
    marked the list under :data:`IMMUTABLE_WRITTEN` in ``req.environ``).
    """
    endpoint = req.endpoint
    if not named_static(endpoint):
        return response
    filename = (req.view_args or {}).get("filename")
    if filename is None or response.status_code not in (200, 206, 304):
        return response
    try:
        version = req.args.get("v")
    except UnicodeDecodeError:  # a query Werkzeug cannot read: not a version we wrote
        return response
    if version is None:
        return response
    try:
        path, current = _static_file(app, endpoint, filename)
    except ValueError:
        return response
    if (
        version == current.version
        and _sends_file(response, path, current)
        and req.environ.get(STATIC_STAMP, (path, current.stamp)) == (path, current.stamp)
    ):
        # Directive names are case-insensitive (RFC 9111 §5.2); Werkzeug reads them as sent.
        control = parse_cache_control_header(
            response.headers.get("Cache-Control", "").lower(), cls=ResponseCacheControl
        )
        if not control.no_store:
            response.headers["Cache-Control"] = PRIVATE_IMMUTABLE if control.private else IMMUTABLE
            # Flask writes the session's cookie after this step: the wrapper looks again.
            written = req.environ.get(IMMUTABLE_WRITTEN)
            if written is not None:  # None outside the wrapper (app.test_request_context)
                written.append(True)
    return response


def note_static_file(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Leave under :data:`STATIC_STAMP` in the request's environ the stamp of the file a
    static request with a ``v`` names, as it is before the static view opens it: a url
    value preprocessor, which Flask runs before any ``before_request`` hook.

    :func:`cache_versioned_static` hashes the file after the view has sent it, and a
    deploy may rename a new file into place in between (one host of a rolling deploy asked
    for the new version before it got it). The old file's ``Last-Modified`` is the new
    one's in a build with fixed mtimes (``SOURCE_DATE_EPOCH``, Nix's 1), so the old bytes
    would be kept a year under the new url: a stamp that changed meanwhile (a new inode, a
    write's ctime) says the file sent may not be the file hashed."""
    if not named_static(endpoint) or values is None:
        return
    filename = values.get("filename")
    if not isinstance(filename, str):
        return
    try:
        if "v" not in request.args:
            return
        path = safe_join(_static_folder(current_app, endpoint), filename)
        if path is not None:
            request.environ[STATIC_STAMP] = (path, _stamp(os.stat(path)))
    except (UnicodeDecodeError, ValueError, OSError):
        # A query Werkzeug cannot read, no static folder, no such file: the view answers
        # it as it would, and cache_versioned_static asks what it asks of any response.
        return


def private_if_cookie(headers: list[tuple[str, str]]) -> None:
    """Make the :data:`IMMUTABLE` in a response's final headers :data:`PRIVATE_IMMUTABLE`
    if they set a cookie; the extension's wrapper calls it as the response starts, when
    :func:`cache_versioned_static` wrote that value (:data:`IMMUTABLE_WRITTEN`).

    Decided from what goes out, not from what the step saw: Flask's session interface
    writes its cookie after every ``after_request`` hook, ours included (a changed
    session's, an emptied one's expiring cookie, a permanent one's on every request while
    ``SESSION_REFRESH_EACH_REQUEST`` is on, Flask's default), and a middleware wrapped
    around ``app.wsgi_app`` before ``init_app`` runs inside our wrapper. A ``Set-Cookie``
    keeps no cache from storing a response (RFC 9111 §7.3), and ``public`` lets a shared
    one store it (§5.2.2.9): one that ignores ``Vary: Cookie`` would hand that cookie to
    every client for a year. ``private`` keeps it from shared caches (§5.2.2.7), while
    the browser keeps the file a year all the same. Field names are case-insensitive
    (RFC 9110 §5.1); a ``Cache-Control`` a middleware rewrote is left as it made it.
    """
    if any(name.lower() == "set-cookie" for name, _ in headers):
        for index, (name, value) in enumerate(headers):
            if value == IMMUTABLE and name.lower() == "cache-control":
                headers[index] = (name, PRIVATE_IMMUTABLE)


def _sends_file(response: Response, path: str, known: _KnownVersion) -> bool:
    """Whether ``response`` is the file at ``path`` hashed as ``known`` says, as
    Werkzeug's ``send_file`` sends it: with that file's modification time as
    ``Last-Modified``, and no other file's name in ``Content-Disposition``. Flask runs
    ``before_request`` hooks for static files too, and one may answer in the static view's
    place (a maintenance page, a sign-in form): that page must not be kept for a year as
    the file. One sent from a file (``send_from_directory``) has a ``Last-Modified`` too,
    the file's own in a fresh checkout or a build with fixed mtimes: its name, which
    ``send_file`` writes, tells it apart (a hook that drops the header leaves the time).
    ``known`` is the caller's own hash, not the cache's entry: another request may have
    stored the stamp of the file it read before a deploy replaced it, which the old bytes
    match."""
    disposition = response.headers.get("Content-Disposition")
    if disposition is not None:
        named = parse_options_header(disposition)[1].get("filename")
        if named is not None and named != os.path.basename(path):
            return False
    # send_file's st_mtime, a float made as os.stat makes it (CPython's fill_time), which
    # http_date() writes in whole seconds: a fraction the float rounds up to 1 dates it
    # the next second, as send_file's Last-Modified does.
    _, _, mtime_ns, _ = known.stamp
    whole, fraction = divmod(mtime_ns, 1_000_000_000)
    try:
        hashed = http_date(whole + fraction * 1e-9)
    except (ValueError, OverflowError):  # a time no date can say
        return False
    return response.headers.get("Last-Modified") == hashed
