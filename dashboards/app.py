"""The app factory: wires settings, fleet, users, access control, languages, blueprints and live updates."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask_socketio import SocketIO

from dashboards.access import install_access
from dashboards.blueprints import api, audit, auth, commands, configure, pages, participation, public, votes
from dashboards.config import DashboardConfig
from dashboards.deps import Deps
from dashboards.errors import register_error_handlers
from dashboards.i18n import install_i18n
from dashboards.live import LiveBridge
from fleet.auth.store import UserStore
from fleet.service_api import FleetApi


def create_app(config: DashboardConfig, fleet: FleetApi, users: UserStore) -> tuple[Flask, SocketIO]:
    """A ready dashboard app and its Socket.IO server (start live updates with ``app.extensions``' bridge)."""
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
    live = LiveBridge(socketio, fleet, users, config.live_interval_s, config.public_results)
    app.extensions["benchfleet"] = Deps(config=config, fleet=fleet, users=users, live=live)

    register_error_handlers(app)
    install_access(app)
    install_i18n(app)
    auth.install_login_throttle(app, config)
    for blueprint in (
        auth.bp,
        pages.bp,
        api.bp,
        participation.bp,
        configure.bp,
        public.bp,
        commands.bp,
        audit.bp,
        votes.bp,
    ):
        app.register_blueprint(blueprint)

    @app.after_request
    def _security_headers(response):  # type: ignore[no-untyped-def]
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    live.install()
    live.start()
    return app, socketio
