"""The results widget a municipality embeds in its own website: a published poll in a small framable page."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import force_locale, get_locale

from dashboards.deps import deps
from dashboards.errors import ApiError
from dashboards.participation_model import poll_doc, public_results_doc
from dashboards.publication import LICENCE, published_poll
from fleet.auth.store import LOCALES
from fleet.service_api import EVERYTHING

bp = Blueprint("embed", __name__, url_prefix="/embed")

#: Any site may frame the widget (it shows only published aggregates and carries no session); it loads nothing
#: from elsewhere and runs no script. The rest of the dashboard stays ``X-Frame-Options: DENY``.
WIDGET_CSP = "frame-ancestors *; default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


@bp.before_request
def _switched_on() -> None:
    if not deps().config.public_results:
        abort(404)


def _lang() -> str | None:
    """The widget's language from ``?lang=`` (the host site picks it; a framed page has no session)."""
    lang = request.args.get("lang")
    if lang is not None and lang not in LOCALES:
        raise ApiError(400, "bad_lang", f"lang={lang!r}: use one of {', '.join(sorted(LOCALES))}")
    return lang


def _bars(tally: dict[str, int], options: list[str]) -> list[dict[str, Any]]:
    total = sum(tally.values())
    return [
        {"id": o, "votes": tally.get(o, 0), "share": round(100 * tally.get(o, 0) / total, 1) if total else 0.0}
        for o in options
    ]


@bp.get("/polls/<poll_id>")
def poll(poll_id: str) -> Response:
    """The widget: question, result per option and per municipality, licence; only for published polls."""
    info = published_poll(poll_id)
    lang = _lang()
    with force_locale(lang or str(get_locale())):
        doc = poll_doc(info, str(get_locale()))
        results = public_results_doc(deps().fleet.poll_results(poll_id, EVERYTHING))
        options = [o.id for o in info.options]
        body = render_template(
            "embed.html",
            poll=doc,
            votes=results["votes"],
            bars=_bars(results["total"], options),
            municipalities={m: _bars(t, options) for m, t in sorted(results["by_municipality"].items())},
            licence=LICENCE,
            public_url=url_for("public.page", _external=True),
        )
    response = Response(body, mimetype="text/html")
    response.headers["Content-Security-Policy"] = WIDGET_CSP
    return response


@bp.get("/polls/<poll_id>.js")
def snippet(poll_id: str) -> Response:
    """A one-line script that puts the widget's iframe where the script tag stands."""
    published_poll(poll_id)
    lang = _lang()
    src = json.dumps(url_for("embed.poll", poll_id=poll_id, _external=True, **({"lang": lang} if lang else {})))
    script = (
        "(function(){var s=document.currentScript,f=document.createElement('iframe');"
        f"f.src={src};f.title='BenchFleet';f.width='100%';f.height='360';f.style.border='0';"
        "s.parentNode.insertBefore(f,s);})();\n"
    )
    return Response(script, mimetype="text/javascript", headers={"Access-Control-Allow-Origin": "*"})
