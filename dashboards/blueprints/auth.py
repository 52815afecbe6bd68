"""Login, logout (here or everywhere) and the language switch."""

from __future__ import annotations

import ipaddress
from typing import Any

from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from dashboards.access import login_required, me, start_session
from dashboards.config import DashboardConfig
from dashboards.deps import deps
from fleet.auth.store import LOCALES

bp = Blueprint("auth", __name__)


class LoginThrottle:
    """Failed logins counted per client address and per account name; only failures count.

    Per account: a password guesser who spreads over many addresses still meets the account's growing
    windows (a backoff). Per address: one address cannot try many accounts. A right password is refused only
    after failures, never merely because colleagues behind the same proxy logged in.
    """

    def __init__(self, config: DashboardConfig) -> None:
        self.limiter = MovingWindowRateLimiter(storage_from_string(config.login_limit_storage))
        self.per_address: list[RateLimitItem] = parse_many(config.login_rate_limit)
        self.per_account: list[RateLimitItem] = parse_many(config.login_account_limits)
        self.proxies = tuple(ipaddress.ip_network(p, strict=False) for p in config.trusted_proxies)

    def _keys(self, account: str) -> list[tuple[RateLimitItem, str]]:
        # Unknown names are throttled like real ones, so the throttle tells no one which names exist.
        address = client_address(self.proxies)
        return [(item, f"ip:{address}") for item in self.per_address] + [
            (item, f"user:{account.lower()}") for item in self.per_account
        ]

    def allowed(self, account: str) -> bool:
        """Tell whether another attempt is allowed now."""
        return all(self.limiter.test(item, key) for item, key in self._keys(account))

    def failed(self, account: str) -> None:
        """Count one failed attempt."""
        for item, key in self._keys(account):
            self.limiter.hit(item, key)


def client_address(proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> str:
    """The caller's address: ``X-Forwarded-For`` is believed only as far as it was written by a trusted proxy."""
    address = request.remote_addr or ""
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    # Walk back from our own peer: each trusted proxy vouches for the hop before it; the first untrusted one is
    # the client (anything further left was written by the client and proves nothing).
    while hops and _trusted(address, proxies):
        address = hops.pop()
    return address


def _trusted(address: str, proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in proxies)


def install_login_throttle(app: Flask, config: DashboardConfig) -> None:
    """Give the app its login throttle (per address and per account)."""
    app.extensions["benchfleet_login_throttle"] = LoginThrottle(config)


def _throttle() -> LoginThrottle:
    found: LoginThrottle = current_app.extensions["benchfleet_login_throttle"]
    return found


def _safe_next(target: str | None) -> str:
    # Only local paths: an open redirect after login would help phishing.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("pages.fleet")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """The login form; failed attempts are throttled per client address and per account."""
    error = None
    status = 200
    if request.method == "POST":
        name = request.form.get("name", "")
        throttle = _throttle()
        if not throttle.allowed(name):
            error, status = _("Too many failed attempts. Please wait a few minutes and try again."), 429
        else:
            user = deps().users.verify_password(name, request.form.get("password", ""))
            if user is not None:
                session.clear()  # a fresh session on login: no fixation
                login_user(start_session(user))
                return redirect(_safe_next(request.args.get("next")))
            throttle.failed(name)
            error, status = _("Wrong user name or password."), 401
    return render_template("login.html", error=error, public=deps().config.public_results), status


@bp.post("/logout")
@login_required
def logout() -> Any:
    """End this session."""
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.post("/logout/everywhere")
@login_required
def logout_everywhere() -> Any:
    """End every session of this user, on every device (a new session version)."""
    deps().users.end_sessions(me().name)
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
