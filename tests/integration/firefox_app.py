"""``browser_app`` plus a page for Firefox: ``gunicorn firefox_app:create_app()``.

- ``/picture/<name>`` shows ``<picture>``: a JPEG XL source (``type="image/jxl"``), which
  Firefox cannot decode, before a PNG fallback; it preloads both as the pattern goes, the
  JPEG XL one type-gated (``push("/static/hero.jxl", as_="image", type="image/jxl")``), and
  its stylesheet ``/static/a.css``. Its view thinks as ``browser_app``'s do.
"""

from __future__ import annotations

import time

from flask import Flask, render_template_string
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

    return app
