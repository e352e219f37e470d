"""What ``init_app`` checks and sets up before it adds a hook: the config's keys (a
misspelt ``FIREHOSE_*`` key, a nested ``FIREHOSE`` table), the connector given (made fit
to be called as the request path calls it, or refused at once with a ValueError that says
why, not a TypeError on every request), the connector's own ``init_app``, and a second
:class:`~.extension.Firehose` taking an app over from the first.

A module of its own: it runs at ``init_app``, never on a request, and the request path
reads none of it.
"""

from __future__ import annotations

import asyncio
import difflib
import inspect
import logging
import sys
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import fields
from typing import Any, cast

from flask import Flask

from .codec import DEFAULT_SALT
from .connectors import (
    Connector,
    DigestConnector,
    PushedSetConnector,
    SessionConnector,
    refuse_unrun,
    set_up_per_app,
)
from .settings import DEFAULTS, ENCODINGS, CookieAttributes, Settings

__all__ = ["as_connector", "init_connector", "warn_taken_over", "warn_unknown_keys"]

log = logging.getLogger("firehose_digest")


def warn_unknown_keys(app: Flask) -> None:
    """A warning for each ``FIREHOSE_*`` key that is no setting: a misspelt one
    (``FIREHOSE_EARLY_HINT``) would otherwise leave its feature off without a word."""
    names = [name.removeprefix("FIREHOSE_") for name in DEFAULTS]
    for key in app.config:
        if key == "FIREHOSE":
            _warn_nested_settings(app.config[key])
        if isinstance(key, str) and key.startswith("FIREHOSE_") and key not in DEFAULTS:
            name = key.removeprefix("FIREHOSE_")
            if name in _FLASK_KEYS_MEANT:
                meant, why = _FLASK_KEYS_MEANT[name]
                hint = f"; did you mean {meant}, Flask's, {why}?"
            else:
                close = difflib.get_close_matches(name, names, n=1)
                hint = f"; did you mean FIREHOSE_{close[0]}?" if close else ""
            log.warning("firehose: %s is not a setting of firehose_digest%s", key, hint)


#: Flask's keys our cookies follow, by what an app may write under our prefix for them
#: (``FIREHOSE_MAX_COOKIE_SIZE``, ``FIREHOSE_COOKIE_SECURE``): the key meant, and why.
_FLASK_KEYS_MEANT = {
    "MAX_COOKIE_SIZE": ("MAX_COOKIE_SIZE", "which bounds our cookies too"),
    **{
        f"{session}COOKIE_{attribute.name.upper()}": (
            f"SESSION_COOKIE_{attribute.name.upper()}",
            "which the digest cookie's attributes follow",
        )
        for attribute in fields(CookieAttributes)
        for session in ("", "SESSION_")
    },
}


def _warn_nested_settings(value: object) -> None:
    """A warning for a ``FIREHOSE`` key: what a TOML ``[FIREHOSE]`` table or
    ``FLASK_FIREHOSE__EARLY_HINTS`` (``from_prefixed_env`` nests at ``__``) makes, one dict
    whose settings are never read, naming each as the key it would be."""
    nested = (
        [f"FIREHOSE_{name}" for name in value if isinstance(name, str)]
        if isinstance(value, Mapping)
        else []
    )
    log.warning(
        "firehose: FIREHOSE is not a setting of firehose_digest: each setting is a key of its "
        "own (a TOML [FIREHOSE] table, or FLASK_FIREHOSE__* in the environment, nests them "
        "in one dict, which is not read)%s",
        f"; did you mean {', '.join(nested)}?" if nested else "",
    )


def as_connector(connector: Any) -> Connector:
    """The connector given, a Flask-Firehose one adapted, or a new DigestConnector.

    A connector implements ``open()`` and ``save()``, or else Flask-Firehose's
    ``get_pushed()`` and ``set_pushed(items)``; the stubs of the
    :class:`~.connectors.Connector` protocol it may name as a base count for nothing. A
    class serves as it is only if those methods need no instance (static or class
    methods, as Flask-Firehose's own connector): any other must be passed as an instance.
    """
    if connector is None:
        return DigestConnector()
    if connector is Connector:  # Flask-Firehose's Connector was its session connector
        raise ValueError(
            "firehose_digest.Connector is the protocol a connector implements: pass "
            "connector=SessionConnector() for Flask-Firehose's session list, or leave it "
            "out for the digest cookie"
        )
    if isinstance(connector, PushedSetConnector):
        # Wrapped by the app itself: what it wraps is checked as a bare one would be, and
        # the adapter (the app's subclass, maybe) as any connector is, below.
        wrapped = connector.connector
        if isinstance(wrapped, type) and not _serves_flask_firehose(wrapped):
            raise _needs_an_instance(wrapped)
        _check_flask_firehose(wrapped)
    opens, saves = _implements(connector, "open"), _implements(connector, "save")
    if opens and saves:
        for name, signature, *arguments in _PROTOCOL_CALLS:
            _check_callable_as(connector, name, signature, *arguments)
        return connector  # type: ignore[no-any-return]
    if _serves_flask_firehose(connector):
        _check_flask_firehose(connector)
        return PushedSetConnector(connector)
    if isinstance(connector, type) and (
        _on_instances(connector, "open", "save")
        or _on_instances(connector, "get_pushed", "set_pushed")
    ):
        raise _needs_an_instance(connector)
    if opens or saves:
        raise ValueError(
            f"Firehose connector {connector!r} implements {'open' if opens else 'save'}() "
            f"but not {'save' if opens else 'open'}(): see firehose_digest.Connector"
        )
    return PushedSetConnector(connector)  # which says what is missing


def _serves_flask_firehose(connector: Any) -> bool:
    """Whether ``connector`` implements Flask-Firehose's ``get_pushed()`` and
    ``set_pushed(items)`` (:func:`_implements`)."""
    return _implements(connector, "get_pushed") and _implements(connector, "set_pushed")


def _check_flask_firehose(connector: Any) -> None:
    """ValueError if ``get_pushed()`` or ``set_pushed(items)`` cannot be called as the
    adapter calls them (:func:`_check_callable_as`)."""
    _check_callable_as(connector, "get_pushed", "()")
    _check_callable_as(connector, "set_pushed", "(items)", set())


def _needs_an_instance(connector: type) -> ValueError:
    """The error for a class passed where an instance is needed, with the call that makes
    one, its constructor's required arguments named."""
    return ValueError(
        f"Firehose connector {connector.__name__} is a class whose methods need an "
        f"instance: pass an instance, connector={connector.__name__}"
        f"({', '.join(_required_arguments(connector))})"
    )


def _required_arguments(cls: type) -> list[str]:
    """The arguments ``cls()`` must be given, as a call writes them: ``store``, or
    ``store=...`` for a keyword-only one (none, if Python cannot read its signature)."""
    try:
        parameters = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return []
    return [
        f"{parameter.name}=..." if parameter.kind is parameter.KEYWORD_ONLY else parameter.name
        for parameter in parameters
        if parameter.default is parameter.empty
        and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
    ]


#: How the extension calls a connector's methods: name, as written in errors, arguments.
_PROTOCOL_CALLS: tuple[tuple[Any, ...], ...] = (
    ("open", "(app, request)", None, None),
    ("save", "(app, response, held, pushed, reused)", None, None, None, (), ()),
)


#: The connector methods called for what they do, whose return value is not read (what
#: ``open()`` and ``get_pushed()`` return is: a generator of keys is read whole).
_CALLED_FOR_EFFECT = frozenset({"save", "set_pushed", "init_app"})


def _is_coroutine_function(method: Any) -> bool:
    """Whether calling ``method`` returns a coroutine, as the running Python can tell.
    Below 3.12 (no ``inspect.markcoroutinefunction``) asgiref's ``sync_to_async`` marks its
    wrapper the way only ``asyncio.iscoroutinefunction`` reads, which 3.14 deprecates."""
    if sys.version_info >= (3, 12):
        return inspect.iscoroutinefunction(method)
    return asyncio.iscoroutinefunction(method)


def _check_callable_as(connector: Any, name: str, signature: str, *arguments: Any) -> None:
    """ValueError at init_app if ``connector.<name>`` cannot take ``arguments`` (as a
    TypeError on every request would say, while nothing is pushed). A method whose
    signature Python cannot read is taken as it is; a decorated one (``functools.wraps``)
    as it is called or as the function it wraps, whichever takes them (so a wrapper that
    takes ``*args, **kwargs`` lets any method through: what it passes on is unknown)."""
    method = getattr(connector, name)
    if _is_coroutine_function(method):
        # Called as it is: its coroutine, never awaited, would record nothing, silently.
        raise ValueError(
            f"Firehose connector {connector!r}: {name}() is async, and the extension calls "
            "it from the request as a plain function, never awaiting it: make it a plain "
            "method (run an async store's call to completion in it)"
        )
    if inspect.isasyncgenfunction(method):
        raise ValueError(
            f"Firehose connector {connector!r}: {name}() is an async generator function, "
            "and the extension calls it as a plain function, never iterating it: make it "
            "a plain method"
        )
    if name in _CALLED_FOR_EFFECT and inspect.isgeneratorfunction(method):
        # Called, it returns a generator and runs none of its body: nothing is recorded.
        raise ValueError(
            f"Firehose connector {connector!r}: {name}() is a generator function, which "
            "runs none of its body until iterated, and the extension never iterates what "
            f"{name}() returns: remove its yield"
        )
    problem = None
    for follow_wrapped in (True, False):
        try:
            found = inspect.signature(method, follow_wrapped=follow_wrapped)
        except Exception:  # a builtin, or a __signature__ Python cannot read
            return
        try:
            found.bind(*arguments)
        except TypeError as e:
            problem = problem or e
        else:
            return
        if not hasattr(method, "__wrapped__"):
            break
    raise ValueError(
        f"Firehose connector {connector!r}: {name}() must take {signature}, as the "
        f"extension calls it: {problem}"
    )


def _on_instances(cls: type, *names: str) -> bool:
    """Whether instances of ``cls`` would implement every one of ``names``."""
    return all(
        callable(getattr(cls, name, None))
        and getattr(cls, name) is not getattr(Connector, name, None)
        for name in names
    )


def _implements(connector: Any, name: str) -> bool:
    """Whether ``connector.<name>(...)`` can be called as the extension calls it: a method
    that is not the protocol's stub, and on a class one that needs no instance."""
    if isinstance(connector, type):
        method = inspect.getattr_static(connector, name, None)
        return isinstance(method, (staticmethod, classmethod))
    method = getattr(connector, name, None)
    # A bound method's function is the class's: the stub, if the protocol's was inherited.
    return callable(method) and getattr(method, "__func__", method) is not getattr(
        Connector, name, None
    )


def init_connector(connector: Connector, app: Flask, settings: Settings) -> None:
    """The connector's own ``init_app``, if it has one; for an app's subclass of one of our
    connectors that overrides it without calling ``super().init_app()``, ours after it.

    Ours sets up what the connector's requests need for the app: the room that bounds the
    session cookie a ``PushedSetConnector`` or ``SessionConnector`` grows (unbounded, it
    passes nginx's 4 KB buffer, a 502 on every page, then the 4 KB browsers keep), and the
    signing state without which ``DigestConnector.open()`` fails on every page. Whether
    the subclass's ``init_app`` called it is read from what it set up, so one that calls
    it with settings of its own, or after fixing its own arguments, keeps them.
    """
    base = next(
        (base for base in _SET_UP_BY_INIT_APP if _overrides_init_app(connector, base)), None
    )
    set_up = set_up_per_app(cast("_OurConnector", connector)) if base is not None else {}
    earlier = set_up.pop(app, None)
    try:
        _run_init_app(connector, app, settings)
    except BaseException:
        if earlier is not None:  # what an earlier init_app set up serves on, as before
            set_up.setdefault(app, earlier)
        raise
    if base is not None and app not in set_up:
        base.init_app(connector, app, settings)  # type: ignore[arg-type]


def _run_init_app(connector: Connector, app: Flask, settings: Settings) -> None:
    """The connector's own ``init_app``, if it has one, checked as it is called."""
    # A Flask-Firehose connector is used as it is: Flask-Firehose never called an
    # init_app of it, so one that is a Flask extension too was set up by its app.
    if isinstance(connector, PushedSetConnector):
        connector.init_app(app, settings)
    else:
        own_init_app = getattr(connector, "init_app", None)
        if callable(own_init_app):
            if isinstance(connector, type) and not _implements(connector, "init_app"):
                raise _needs_an_instance(connector)  # its init_app takes self
            _check_callable_as(connector, "init_app", "(app, settings)", app, settings)
            initialised = own_init_app(app, settings)
            if initialised is not None:
                try:  # an async or generator init_app behind a plain wrapper
                    refuse_unrun(initialised, connector, "init_app")
                except TypeError as e:
                    raise ValueError(f"Firehose connector: {e}") from e


#: Our connectors whose ``init_app`` sets up what their requests need (:func:`init_connector`).
_SET_UP_BY_INIT_APP = (PushedSetConnector, SessionConnector, DigestConnector)
_OurConnector = PushedSetConnector | SessionConnector | DigestConnector


def _overrides_init_app(connector: object, base: type[_OurConnector]) -> bool:
    """Whether ``connector`` is of an app's subclass of ``base`` with an ``init_app`` of
    its own."""
    return isinstance(connector, base) and type(connector).init_app is not base.init_app


def warn_taken_over(app: Flask, before: Connector, after: Connector) -> None:
    """A warning when another :class:`~.extension.Firehose` sets up an app one already set
    up, with a connector that keeps another store (a module's ``Firehose()`` and one a
    factory makes, each given its own): the hooks stay single and the last connector is
    used, so the first one's store, which the app may read elsewhere, is no longer asked.
    The same object's ``init_app`` again reads the config again, as documented, and says
    nothing."""
    if not _keeps_the_same(before, after, app):
        named_after, named_before = _named(after), _named(before)
        if named_after == named_before and isinstance(before, DigestConnector):
            # Two digests (the default's, or an app's subclass's) of settings the config
            # changed between: said by those (named alike if one cannot say them: a
            # warning never fails init_app).
            with suppress(Exception):
                named_after, named_before = _told_apart(cast(DigestConnector, after), before, app)
        if named_after == named_before:
            # Two objects named alike, of one store each (an app's own connectors).
            named_after = f"another {named_after}"
        log.warning(
            "firehose: a second Firehose set up app %r with connector %s, in place of the "
            "first one's %s, which is no longer asked: keep one Firehose per app (call its "
            "init_app(app) again to read the config again)",
            app.name,
            named_after,
            named_before,
        )


def _named(connector: object) -> str:
    """``repr(connector)``, or its class's name if that fails: at ``init_app`` there is no
    request, nor app context, for a ``repr`` that reads ``current_app``."""
    try:
        return repr(connector)
    except Exception:
        return f"<{type(connector).__qualname__}>"


def _told_apart(after: DigestConnector, before: DigestConnector, app: Flask) -> tuple[str, str]:
    """The names of two digests named alike, each with the keys of :func:`_store_keys`
    whose values tell the two apart; as they are if none does."""
    read = _store_keys(after, app), _store_keys(before, app)
    differ = [index for index, pair in enumerate(read[0]) if pair != read[1][index]]
    if not differ:  # an app's subclass, told apart as an object
        return _named(after), _named(before)
    first, second = (
        ", ".join(f"{key}={value!r}" for key, value in (keys[i] for i in differ)) for keys in read
    )
    return f"{_named(after)} ({first})", f"{_named(before)} ({second})"


def _store_keys(digest: DigestConnector, app: Flask) -> list[tuple[str, object]]:
    """What decides whether ``digest`` reads a cookie another wrote in ``app``, each by its
    key: the cookie's name, the salt it is signed with (``FIREHOSE_DIGEST_VERSION``), the
    digest's encoding, capacity and rate. The rest (103s, pushes per response, budgets)
    is read by each ``init_app``, whichever ``Firehose`` runs it, and leaves the store as
    it was."""
    settings = digest.settings(app)
    encoding = next(name for name, kind in ENCODINGS.items() if kind is settings.kind)
    return [
        ("FIREHOSE_COOKIE_NAME", settings.cookie_name),
        ("FIREHOSE_DIGEST_VERSION", settings.salt.removeprefix(DEFAULT_SALT).removeprefix(":")),
        ("FIREHOSE_ENCODING", encoding),
        ("FIREHOSE_CAPACITY", settings.capacity),
        ("FIREHOSE_FP_RATE", settings.fp_rate),
    ]


def _keeps_the_same(before: object, after: object, app: Flask) -> bool:
    """Whether connector ``after`` keeps for ``app`` what ``before`` kept: the same object,
    two adapters of one Flask-Firehose connector, two digests that read the same cookies
    (:func:`_store_keys`), or two session lists of the same length. An app's own
    connectors are told apart as objects: two stores made alike (a module's and a
    factory's) are two stores, equal or not."""
    if before is after:
        return True
    if type(before) is not type(after):
        return False
    if type(before) is PushedSetConnector:
        return _keeps_the_same(before.connector, cast(PushedSetConnector, after).connector, app)
    if type(before) is DigestConnector:
        # Both set up for the app: the first by the init_app that kept it, the second by
        # the one under way, before it is compared.
        return _store_keys(before, app) == _store_keys(cast(DigestConnector, after), app)
    if type(before) is SessionConnector:
        return before.max_items == cast(SessionConnector, after).max_items
    return False
