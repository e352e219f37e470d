"""``browser_app`` plus pages for Firefox: ``gunicorn firefox_app:create_app()``.

- ``/picture/<name>`` shows ``<picture>``: a JPEG XL source (``type="image/jxl"``), which
  Firefox cannot decode, before a PNG fallback; it preloads both as the pattern goes, the
  JPEG XL one type-gated (``push("/static/hero.jxl", as_="image", type="image/jxl")``), and
  its stylesheet ``/static/a.css``. Its view thinks as ``browser_app``'s do.
- ``/nonce/<name>`` runs ``/static/n.js`` under a Content Security Policy that allows only
  scripts with this response's nonce: ``<script nonce=...>``, pushed with the same nonce
  (``push("/static/n.js", as_="script", nonce=...)``) after its stylesheet ``/static/a.css``.
- ``/narrow/<name>`` shows a ``<picture>`` whose ``/static/narrow.png`` source is for
  narrow screens only (``media="(max-width: 600px)"``), ``/static/hero.png`` on others,
  and preloads both as the pattern goes, the narrow one with the same ``media``;
  ``/everywhere/<name>`` shows ``/static/narrow.png`` on every screen. Both link
  ``/static/a.css`` and think as ``browser_app``'s views do.
- ``/sized/<name>`` shows an ``<img>`` whose one ``srcset`` candidate,
  ``/static/narrow.png 400w``, fits every viewport, over its ``src`` ``/static/hero.png``,
  and preloads it as the pattern goes (``imagesrcset`` and ``imagesizes`` on the link of
  ``/static/hero.png``), after ``/static/a.css``.
"""

from __future__ import annotations

import secrets
import time

from flask import Flask, Response, make_response, render_template_string
from markupsafe import Markup

from firehose_digest import push

from .browser_app import PAGE, THINK_SECONDS
from .browser_app import create_app as create_browser_app


def create_app() -> Flask:
    app = create_browser_app()

    @app.route("/picture/<name>")
    def picture(name: str) -> str:
        time.sleep(THINK_SECONDS)
        css = push("/static/a.css", as_="style")
        jxl = push("/static/hero.jxl", as_="image", type="image/jxl")
        png = push("/static/hero.png", as_="image")
        body = Markup(
            '<link rel="stylesheet" href="{}"><picture><source srcset="{}" type="image/jxl">'
            '<img src="{}" alt=""></picture>'
        ).format(css, jxl, png)
        return render_template_string(PAGE, name=name, styles=body)

    @app.route("/nonce/<name>")
    def nonced(name: str) -> Response:
        time.sleep(THINK_SECONDS)
        nonce = secrets.token_hex(16)
        css = push("/static/a.css", as_="style")
        script = push("/static/n.js", as_="script", nonce=nonce)
        page = Markup(
            '<!doctype html><title>{}</title><link rel="stylesheet" href="{}">'
            '<p id="ran"></p><script src="{}" nonce="{}"></script>'
        ).format(name, css, script, nonce)
        response = make_response(str(page))
        response.headers["Content-Security-Policy"] = f"script-src 'nonce-{nonce}'"
        return response

    @app.route("/narrow/<name>")
    def narrow(name: str) -> str:
        time.sleep(THINK_SECONDS)
        css = push("/static/a.css", as_="style")
        small = push("/static/narrow.png", as_="image", media=NARROW)
        large = push("/static/hero.png", as_="image")
        body = Markup(
            '<link rel="stylesheet" href="{}"><picture><source srcset="{}" media="{}">'
            '<img src="{}" alt=""></picture>'
        ).format(css, small, NARROW, large)
        return render_template_string(PAGE, name=name, styles=body)

    @app.route("/everywhere/<name>")
    def everywhere(name: str) -> str:
        time.sleep(THINK_SECONDS)
        css = push("/static/a.css", as_="style")
        image = push("/static/narrow.png", as_="image")
        body = Markup('<link rel="stylesheet" href="{}"><img src="{}" alt="">').format(css, image)
        return render_template_string(PAGE, name=name, styles=body)

    @app.route("/sized/<name>")
    def sized(name: str) -> str:
        time.sleep(THINK_SECONDS)
        css = push("/static/a.css", as_="style")
        candidates = "/static/narrow.png 400w"
        image = push("/static/hero.png", as_="image", imagesrcset=candidates, imagesizes="100vw")
        body = Markup(
            '<link rel="stylesheet" href="{}"><img src="{}" srcset="{}" sizes="100vw" alt="">'
        ).format(css, image, candidates)
        return render_template_string(PAGE, name=name, styles=body)

    return app


#: The screens ``/narrow/<name>`` shows ``/static/narrow.png`` on: not headless Firefox's.
NARROW = "(max-width: 600px)"
