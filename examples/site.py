"""An example site that pushes its static resources, with four ways to track what was pushed.

``SITE_TRACKING`` picks the tracker:

- ``"digest"`` (default): firehose_digest with its signed ``h2-digest`` cookie;
- ``"session"``: firehose_digest with the exact set kept in Flask's session;
- ``"none"``: no extension; the same ``Link`` headers written by hand, so the proxy's own
  tracking (h2o's CASPER cookie) is the only memory;
- ``"flask-firehose"``: the original Flask-Firehose 0.2.3, if installed.

Run it with ``FLASK_SECRET_KEY='"dev"' gunicorn 'examples.site:create_app()'`` (without a
key, the digest cannot be signed: nothing is pushed, and the log says so) and configure it
with other ``FLASK_*`` environment variables, read as JSON: ``FLASK_SITE_TRACKING``,
``FLASK_SITE_ASSETS``, ``FLASK_SITE_STATIC_DIR``, ``FLASK_FIREHOSE_CAPACITY``...
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g, render_template, url_for

from firehose_digest import Firehose, SessionConnector, format_link
from firehose_digest import push as firehose_push

try:
    import flask_firehose  # type: ignore[import-untyped]
except ImportError:  # optional: only SITE_TRACKING="flask-firehose" needs it
    flask_firehose = None

__all__ = ["TRACKINGS", "browse_indices", "create_app", "site_files", "write_assets"]

DEFAULT_STATIC_DIR = Path(__file__).with_name("static")
TRACKINGS = ("digest", "session", "none", "flask-firehose")
ASSETS_PER_PAGE = 10
#: A page shares ``ASSETS_PER_PAGE - PAGE_STEP`` of its assets with the page before.
PAGE_STEP = 3
EXTENSION_KEY = "site"

#: What every tracker offers views: ``push(url, *flags, as_=None, **params) -> url``.
Pusher = Callable[..., str]

_SITE_CSS = b"body { font-family: Inter, sans-serif; margin: 0 auto; max-width: 40rem; }\n"
_APP_JS = b"document.documentElement.classList.add('js');\n"
_FONT = b"wOF2" + bytes(252)


@dataclass(frozen=True)
class Site:
    """The static files a page pushes (relative to the static folder) and the push to use."""

    stylesheet: str
    script: str
    font: str
    assets: tuple[str, ...]
    push: Pusher


def _fingerprint(content: bytes) -> str:
    return hashlib.sha1(content).hexdigest()[:10]


def _asset_content(index: int) -> bytes:
    rules = "".join(
        f".r{index}-{n} {{ margin: {n}px; padding: {index % 7}px; }}\n" for n in range(8)
    )
    return f"/* fingerprinted asset r{index} */\n{rules}".encode()


def site_files(count: int) -> dict[str, bytes]:
    """The site's static files by name: stylesheet, script, font, then ``count`` assets."""
    files = {
        f"css/site.{_fingerprint(_SITE_CSS)}.css": _SITE_CSS,
        f"js/app.{_fingerprint(_APP_JS)}.js": _APP_JS,
        f"fonts/inter.{_fingerprint(_FONT)}.woff2": _FONT,
    }
    for index in range(count):
        name_hash = hashlib.sha1(str(index).encode()).hexdigest()[:10]
        files[f"assets/r{index}.{name_hash}.css"] = _asset_content(index)
    return files


def write_assets(directory: Path, count: int) -> None:
    """Write the site's static files under ``directory``, leaving existing ones alone.

    Each file is written whole and then renamed, so a server reading the folder meanwhile
    (another worker, a proxy) never sees half a file.
    """
    for name, content in site_files(count).items():
        path = directory / name
        if path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        partial.write_bytes(content)
        partial.replace(path)


def browse_indices(page: int, count: int) -> list[int]:
    """The assets ``/browse/<page>`` pushes: a window of 10 sliding 3 a page.

    Neighbouring pages share most of their assets, as pages of one section share
    components; pages 0-99 over 300 assets touch every asset.
    """
    return [(page * PAGE_STEP + j) % count for j in range(ASSETS_PER_PAGE)]


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the example site from ``FLASK_*`` environment variables, then ``config``."""
    app = Flask(__name__)
    app.config.from_prefixed_env()
    app.config.update(config or {})
    app.config.setdefault("SITE_ASSETS", 300)
    app.config.setdefault("SITE_TRACKING", "digest")
    app.config.setdefault("SITE_STATIC_DIR", DEFAULT_STATIC_DIR)

    count = app.config["SITE_ASSETS"]
    if isinstance(count, bool) or not isinstance(count, int) or count < ASSETS_PER_PAGE:
        raise ValueError(f"SITE_ASSETS must be an int >= {ASSETS_PER_PAGE}, got {count!r}")
    static_dir = Path(app.config["SITE_STATIC_DIR"])
    app.static_folder = static_dir
    write_assets(static_dir, count)
    stylesheet, script, font, *assets = site_files(count)
    app.extensions[EXTENSION_KEY] = Site(
        stylesheet, script, font, tuple(assets), _install_tracking(app)
    )
    app.add_url_rule("/", view_func=index)
    app.add_url_rule("/browse/<int:page>", view_func=browse)
    return app


def index() -> str:
    """The home page: its template pushes the stylesheet, the script and the font."""
    return render_template("index.html", site=current_app.extensions[EXTENSION_KEY])


def browse(page: int) -> str:
    """A catalogue page: the view pushes its 10 assets."""
    site: Site = current_app.extensions[EXTENSION_KEY]
    urls = [
        site.push(url_for("static", filename=site.assets[i]), as_="style")
        for i in browse_indices(page, len(site.assets))
    ]
    return render_template("browse.html", page=page, urls=urls)


def _install_tracking(app: Flask) -> Pusher:
    """Set up ``SITE_TRACKING`` on ``app``; return the ``push`` its views call."""
    tracking = app.config["SITE_TRACKING"]
    if tracking == "digest":
        Firehose(app)
        return firehose_push
    if tracking == "session":
        Firehose(app, connector=SessionConnector())
        return firehose_push
    if tracking == "none":
        app.jinja_env.globals["push"] = _hand_push
        app.after_request(_write_hand_links)
        return _hand_push
    if tracking == "flask-firehose":
        if flask_firehose is None:
            raise ValueError('SITE_TRACKING="flask-firehose" needs flask-firehose installed')
        flask_firehose.Firehose(app)
        app.jinja_env.globals["push"] = _flask_firehose_push
        return _flask_firehose_push
    raise ValueError(f"SITE_TRACKING must be one of {TRACKINGS}, got {tracking!r}")


def _link_params(as_: str | None, params: dict[str, str]) -> dict[str, str]:
    """``rel=preload`` then ``as``, as firehose_digest writes them (Jinja passes ``as``)."""
    as_ = params.pop("as", as_)
    return {"rel": "preload", **({"as": as_} if as_ is not None else {}), **params}


def _hand_push(url: str, *flags: str, as_: str | None = None, **params: str) -> str:
    """Collect a preload link with no tracking at all: every page declares all it needs."""
    link = format_link(url, tuple(_link_params(as_, params).items()), flags)
    g.setdefault("site_links", {}).setdefault(url, link)
    return url


def _write_hand_links(response: Response) -> Response:
    links: dict[str, str] = g.get("site_links", {})
    if links:
        response.headers.add("Link", ", ".join(links.values()))
    return response


def _flask_firehose_push(url: str, *flags: str, as_: str | None = None, **params: str) -> str:
    """Flask-Firehose's ``push``, which neither defaults ``rel`` nor accepts ``as_``."""
    return str(flask_firehose.push(url, *flags, **_link_params(as_, params)))
