"""The app factory: wires settings, fleet, users, access control, languages, blueprints and live updates."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flask import Flask
from flask_socketio import SocketIO

from dashboards.access import install_access
from dashboards.blueprints import alarms as alarms_bp
from dashboards.blueprints import (
    announcements,
    api,
    audit,
    auth,
    commands,
    configure,
    embed,
    pages,
    participation,
    public,
    reports,
    rollouts,
    votes,
)
from dashboards.config import DashboardConfig
from dashboards.deps import Deps
from dashboards.errors import register_error_handlers
from dashboards.i18n import install_i18n
from dashboards.live import LiveBridge
from dashboards.publication import EXTENSION as PUBLICATIONS
from dashboards.reason_text import doc_text, reason_catalog
from fleet.auth.store import UserStore
from fleet.ops.alarms import AlarmStore
from fleet.reports.desk import ReportDesk
from fleet.reports.publication import Publications
from fleet.service_api import FleetApi

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication


def create_app(
    config: DashboardConfig,
    fleet: FleetApi,
    users: UserStore,
    alarms: AlarmStore | None = None,
    publications: Publications | None = None,
    reports_desk: ReportDesk | None = None,
) -> Flask:
    """A dashboard app (Flask's factory pattern: starts nothing).

    ``publications`` holds which closed polls' results are public (without it no closed poll is);
    ``reports_desk`` serves the report archive page (without it that page answers 503).

    Its live bridge is ``app.extensions["benchfleet"].live`` (with the Socket.IO server as ``.socketio``):
    the composition root subscribes ``live.on_event`` to the fleet's event bus and calls ``live.start()``.
    """
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=config.secret_key,
        TESTING=config.testing,
        SESSION_COOKIE_SECURE=config.secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=config.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    socketio = SocketIO(
        app,
        async_mode="threading",
        message_queue=config.socketio_message_queue,
        # cors_allowed_origins left at its default: same origin only, so no other site rides the session cookie.
    )
    app.wsgi_app = _no_delay(app.wsgi_app)  # type: ignore[method-assign,assignment]
    live = LiveBridge(socketio, fleet, users, config.live_interval_s, config.public_results)
    app.extensions["benchfleet"] = Deps(config=config, fleet=fleet, users=users, live=live)
    app.extensions[PUBLICATIONS] = publications
    app.extensions[reports.EXTENSION] = reports_desk

    register_error_handlers(app)
    install_access(app)
    install_i18n(app)
    app.jinja_env.globals.update(reason_catalog=reason_catalog, doc_text=doc_text)
    auth.install_login_throttle(app, config)
    for blueprint in (
        auth.bp,
        pages.bp,
        api.bp,
        participation.bp,
        configure.bp,
        public.bp,
        embed.bp,
        reports.bp,
        commands.bp,
        audit.bp,
        rollouts.bp,
        announcements.bp,
        votes.bp,
    ):
        app.register_blueprint(blueprint)
    alarms_bp.install(app, socketio, alarms, config.live_interval_s)

    @app.after_request
    def _security_headers(response):  # type: ignore[no-untyped-def]
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # A page that states its own frame-ancestors (the embed widget) may be framed; every other page may not.
        if "frame-ancestors" not in response.headers.get("Content-Security-Policy", ""):
            response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @app.context_processor
    def _demo_context() -> dict[str, Any]:
        # The demo's clock runs ahead of the wall clock: the badge says so, with the simulated "now";
        # the demo's benches have kiosk pages, linked from their bench pages.
        kiosks = dict(config.kiosk_urls)
        if config.simulated_speed is None:
            return {"simulated_now": None, "kiosk_urls": kiosks}
        return {"simulated_now": fleet.now(), "simulated_speed": config.simulated_speed, "kiosk_urls": kiosks}

    live.install()
    return app


def _no_delay(wsgi_app: WSGIApplication) -> WSGIApplication:
    """Switch Nagle's algorithm off on each connection (wraps Socket.IO's middleware too).

    Live updates are small WebSocket frames a few dozen milliseconds apart: with Nagle on, each one
    waited for the browser's delayed ACK of the one before (up to 40 ms and more a frame on Linux),
    which benchmarks/live_latency.py measured as ~150 ms between the server's emit and the page.
    """

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        sock = environ.get("werkzeug.socket")
        if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return wsgi_app(environ, start_response)

    return app
