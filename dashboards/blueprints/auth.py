"""Login, logout and the language switch."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from dashboards.access import SessionUser, login_required
from dashboards.deps import deps
from fleet.auth.store import LOCALES

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    # Only local paths: an open redirect after login would help phishing.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("pages.fleet")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """The login form; rate-limited per client address."""
    error = None
    if request.method == "POST":
        user = deps().users.verify_password(request.form.get("name", ""), request.form.get("password", ""))
        if user is not None:
            session.clear()  # a fresh session on login: no fixation
            login_user(SessionUser(user))
            return redirect(_safe_next(request.args.get("next")))
        error = _("Wrong user name or password.")
    status = 401 if error else 200
    return render_template("login.html", error=error, public=deps().config.public_results), status


@bp.post("/logout")
@login_required
def logout() -> Any:
    """End the session."""
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.post("/locale")
def set_locale() -> Any:
    """Switch the language: stored with the user, or in the session before login."""
    locale = request.form.get("locale", "")
    if locale not in LOCALES:
        abort(400, f"unknown locale {locale!r}")
    if current_user.is_authenticated:
        deps().users.set_locale(current_user.user.name, locale)
        current_user.user = deps().users.get_user(current_user.user.name) or current_user.user
    session["locale"] = locale
    return redirect(_safe_next(request.form.get("next")))
