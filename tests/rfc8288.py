"""A strict RFC 8288 ``Link`` parser, written apart from the builder so tests can check it.

It accepts exactly ``link-value *( OWS "," OWS link-value )`` (no empty list members) and
returns ``[(uri, [(name, value-or-None), ...]), ...]`` with quoted-strings unescaped.
"""

from __future__ import annotations

import re

TCHAR = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
OWS = re.compile(r"[ \t]*")
URI = re.compile(r"<([^<>\x00-\x20\x7f]+)>")
QUOTED = re.compile(r'"((?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\[\t\x20-\x7e])*)"')

Link = tuple[str, list[tuple[str, "str | None"]]]


class LinkSyntaxError(ValueError):
    pass


def parse_link_header(value: str) -> list[Link]:
    links: list[Link] = []
    pos = 0
    while True:
        pos = OWS.match(value, pos).end()  # type: ignore[union-attr]
        uri = URI.match(value, pos)
        if uri is None:
            raise LinkSyntaxError(f"expected <URI-Reference> at {pos} in {value!r}")
        pos = uri.end()
        params: list[tuple[str, str | None]] = []
        while True:
            after = OWS.match(value, pos).end()  # type: ignore[union-attr]
            if value.startswith(";", after):
                pos = OWS.match(value, after + 1).end()  # type: ignore[union-attr]
                name = TCHAR.match(value, pos)
                if name is None:
                    raise LinkSyntaxError(f"expected a parameter name at {pos} in {value!r}")
                pos = OWS.match(value, name.end()).end()  # type: ignore[union-attr]
                if value.startswith("=", pos):
                    pos = OWS.match(value, pos + 1).end()  # type: ignore[union-attr]
                    token = TCHAR.match(value, pos)
                    quoted = QUOTED.match(value, pos)
                    if token is not None:
                        params.append((name.group(), token.group()))
                        pos = token.end()
                    elif quoted is not None:
                        params.append((name.group(), re.sub(r"\\(.)", r"\1", quoted.group(1))))
                        pos = quoted.end()
                    else:
                        raise LinkSyntaxError(f"expected a value at {pos} in {value!r}")
                else:
                    params.append((name.group(), None))
                    pos = name.end()
            else:
                pos = after
                break
        links.append((uri.group(1), params))
        if pos == len(value):
            return links
        if not value.startswith(",", pos):
            raise LinkSyntaxError(f"expected ',' or the end at {pos} in {value!r}")
        pos += 1
