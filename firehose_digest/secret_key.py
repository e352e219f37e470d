"""Whether ``SECRET_KEY`` and ``SECRET_KEY_FALLBACKS`` can sign, said as what to write, and
the warning, once per app, that a connector cannot remember what a client holds for want of
one (or of a session).

A module of its own: the digest's codec (:mod:`.held_digests`) and the session connectors
(:mod:`.app_session`, :mod:`.connectors`) ask the same questions of the same keys.
"""

from __future__ import annotations

import weakref

from flask import Flask

from .codec import signable

__all__ = [
    "fallbacks_problem",
    "false_key_problem",
    "key_problem",
    "warn_no_secret_key",
]


def _usable_key(key: object) -> bool:
    """Unset, bytes, or a str the codec can sign with (:func:`~.codec.signable`)."""
    return key is None or isinstance(key, bytes) or (isinstance(key, str) and signable(key))


def key_problem(key: object, consequence: str = "") -> str | None:
    """Why ``SECRET_KEY`` cannot sign, or None; ``consequence`` follows what is wrong,
    before the hint of what to write."""
    if _usable_key(key):
        return None
    if isinstance(key, str):
        return f"SECRET_KEY holds a character UTF-8 cannot encode (a lone surrogate){consequence}"
    hint = ""
    if isinstance(key, bytearray):
        # Flask's session signs with one, but not every signer takes it (Flask-Session's
        # hands itsdangerous the key alone, which reads it as a list of int keys).
        consequence, hint = "", ": give the same key as bytes, bytes(key)"
    elif isinstance(key, (int, float)) and not isinstance(key, bool):
        # from_prefixed_env reads JSON: a key of digits becomes a number.
        hint = """: in the environment quote a key of digits as JSON, FLASK_SECRET_KEY='"123"'"""
    return f"SECRET_KEY must be a str or bytes, got {type(key).__name__}{consequence}{hint}"


def fallbacks_problem(fallbacks: object) -> str | None:
    """Why ``SECRET_KEY_FALLBACKS`` cannot verify, or None: unset, or a list (or tuple) of
    str or bytes keys (a bare str would make each of its characters a key)."""
    if fallbacks is None:
        return None
    if not isinstance(fallbacks, (list, tuple)):
        return f"SECRET_KEY_FALLBACKS must be a list of keys, got a {type(fallbacks).__name__}"
    for index, key in enumerate(fallbacks):
        if not _usable_key(key):
            # Named by its type and place, never its value: a fallback still verifies
            # Flask's session, and this is raised or logged.
            got = "a str with a lone surrogate" if isinstance(key, str) else type(key).__name__
            hint = ": give the same key as bytes, bytes(key)" if isinstance(key, bytearray) else ""
            return (
                "SECRET_KEY_FALLBACKS must hold str (UTF-8) or bytes keys, "
                f"got {got} at index {index}{hint}"
            )
    return None


#: The apps told that a connector cannot remember what a client holds, for want of a
#: ``SECRET_KEY`` that signs or of a session (:func:`warn_no_secret_key`), whatever the
#: connector and the problem: one warning per app.
_told_cannot_remember: weakref.WeakSet[Flask] = weakref.WeakSet()


def warn_no_secret_key(app: Flask, who: str, problem: str = "SECRET_KEY is not set") -> None:
    """Warn once per app that ``who`` cannot remember what a client holds, and why
    (``problem``: the key unset or unusable, or the session interface's): the page is
    served with its preload links, nothing is pushed."""
    if app in _told_cannot_remember:
        return
    _told_cannot_remember.add(app)
    app.logger.warning(
        "firehose: %s, so %s cannot remember what a client holds; "
        "pages keep their preload links but nothing is pushed",
        problem,
        who,
    )


def false_key_problem(key: object) -> str:
    """What a false ``SECRET_KEY`` is, which Flask's session reads as no key (its null
    session says "no secret key was set"): unset, empty, or a false value of another type,
    named with what to write (``FLASK_SECRET_KEY=0`` is an int once ``from_prefixed_env``
    read it)."""
    if key is None:
        return "SECRET_KEY is not set"
    return key_problem(key, " (Flask's session reads a false key as none)") or (
        "SECRET_KEY is empty"  # a str or bytes: no key, as anyone could sign with it
    )
