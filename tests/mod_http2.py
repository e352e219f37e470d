"""A ``Link`` value as Apache's ``mod_http2`` reads it to decide its pushes.

Transliterated from ``inspect_link()`` and the readers it calls in httpd's
``modules/http2/h2_push.c`` (the same in 2.4.x and trunk), which is not RFC 8288:

- a parameter name or a flag is read as RFC 5987's ``attr-char``, which lacks the
  token's ``'``, ``*`` and ``%``;
- an unquoted value as a ``ptoken``, which, unlike the comment above it, lacks ``%``;
- a quoted value ends at the next ``"``, as it knows no ``\\`` escape;
- at any character it did not expect where a ``;`` or a ``,`` should come, it stops
  reading the whole value: that link keeps the parameters read so far (its ``nopush``
  may not be among them) and is pushed if they say ``rel=preload``; no link after it
  in the value is read at all.

:func:`read_as_apache` returns ``[(url, [(name, value), ...]), ...]`` for each link it
read, a flag's value ``""``, as ``apr_table_setn`` keeps it.
"""

from __future__ import annotations

import string

_ALNUM = frozenset(string.ascii_letters + string.digits)
ATTR_CHAR = _ALNUM | frozenset("!#$&+-.^_`|~")
PTOKEN_CHAR = _ALNUM | frozenset("!#$&'()*+-./:<=>?@[]^_`{|}~")

ApacheLink = tuple[str, list[tuple[str, str]]]


class _Reader:
    def __init__(self, value: str) -> None:
        self.s = value
        self.i = 0

    def skip_ws(self) -> bool:
        while self.i < len(self.s) and self.s[self.i] in " \t":
            self.i += 1
        return self.i < len(self.s)

    def read_chr(self, c: str) -> bool:
        if self.i < len(self.s) and self.s[self.i] == c:
            self.i += 1
            return True
        return False

    def read_run(self, allowed: frozenset[str]) -> str | None:
        if not self.skip_ws():
            return None
        end = self.i
        while end < len(self.s) and self.s[end] in allowed:
            end += 1
        if end == self.i:
            return None
        run, self.i = self.s[self.i : end], end
        return run

    def read_qstring(self) -> str | None:
        if self.skip_ws() and self.read_chr('"'):
            end = self.s.find('"', self.i)
            if end >= 0:
                text, self.i = self.s[self.i : end], end + 1
                return text
        return None

    def read_link(self) -> str | None:
        if self.skip_ws() and self.read_chr("<"):
            end = self.s.find(">", self.i)
            if end >= 0:
                url, self.i = self.s[self.i : end], end + 1
                return url
        return None

    def read_param(self) -> tuple[str, str] | None:
        if self.skip_ws() and self.read_chr(";"):
            name = self.read_run(ATTR_CHAR)
            if name is not None:
                value = ""  # the value is optional
                if self.skip_ws() and self.read_chr("="):
                    quoted = self.read_qstring()
                    value = quoted if quoted is not None else self.read_run(PTOKEN_CHAR) or ""
                return name, value
        return None

    def read_sep(self) -> bool:
        return self.skip_ws() and self.read_chr(",")


def read_as_apache(value: str) -> list[ApacheLink]:
    """The links ``mod_http2`` reads in ``value``, each with the parameters it read."""
    reader = _Reader(value)
    links: list[ApacheLink] = []
    while (url := reader.read_link()) is not None:
        params: list[tuple[str, str]] = []
        while (param := reader.read_param()) is not None:
            params.append(param)
        links.append((url, params))
        if not reader.read_sep():
            break
    return links


def _has_relation(rel: str, wanted: str) -> bool:
    """``has_relation()``: ``rel`` is ``wanted``, or its first occurrence in ``rel`` is a
    space-separated word (a later one is not looked for)."""
    if rel == wanted:
        return True
    at = rel.find(wanted)
    end = at + len(wanted)
    return at >= 0 and (at == 0 or rel[at - 1] == " ") and rel[end : end + 1] in ("", " ")


def pushed_by_apache(value: str) -> list[str]:
    """The urls of the links ``mod_http2`` pushes (``add_push()``): its ``rel`` names
    ``preload``, case-sensitively, and it has no ``nopush`` parameter it read (the url's
    authority aside). Its parameters are kept with ``apr_table_setn``, which replaces a
    name's value (in any case): of two ``rel``, the last is read."""
    pushed = []
    for url, params in read_as_apache(value):
        names = [name.lower() for name, _ in params]
        rels = [value for name, value in params if name.lower() == "rel"]
        rel = rels[-1] if rels else ""
        if _has_relation(rel, "preload") and "nopush" not in names:
            pushed.append(url)
    return pushed
