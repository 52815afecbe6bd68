"""The kiosk: a tiny local web app for the bench's touchscreen, showing open polls and taking votes.

One vote per poll per kiosk session (a signed cookie; the page starts a new session for the next
person) stops accidental double votes. Stuffing is bounded by budgets of the bench and of each poll
(``limits.Quota``), which a fresh cookie does not reset; only a valid vote spends them, so a stream of
invalid requests cannot lock citizens out.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request, send_from_directory, session
from werkzeug.serving import BaseWSGIServer, make_server

from twins.clock import Clock
from twins.config import LANGUAGES, Poll
from twins.vote_rules import vote_refusal

from ..outbox.base import OutboxError
from ..votes import VoteBox, VoteRefused
from .limits import BENCH_WINDOWS, POLL_WINDOWS, Quota, Window, scaled
from .status import StatusSource, kiosk_status

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
_REFUSAL_STATUS = {"unknown_poll": 404, "poll_closed": 409, "unknown_option": 422}


def _poll_doc(poll: Poll) -> dict[str, Any]:
    return {
        "id": poll.id,
        "question": poll.question,
        "options": [{"id": o.id, "labels": o.labels} for o in poll.options],
        "closes": poll.closes.isoformat().replace("+00:00", "Z"),
    }


def _error(code: str, message: str, status: int) -> tuple[Response, int]:
    return jsonify({"error": {"code": code, "message": message}}), status


def create_kiosk_app(
    votes: VoteBox,
    clock: Clock,
    max_votes: int = 6,
    per: timedelta = timedelta(minutes=1),
    quota: Quota | None = None,
    status: StatusSource | None = None,
) -> Flask:
    """Build the kiosk app around a VoteBox; at most ``max_votes`` per ``per`` on the bench (plus longer windows).

    ``status`` says what the bench offers now (``kiosk_status`` of the agent's config and shed loads);
    without it, the config alone (nothing counted as shed)."""
    app = Flask(__name__, static_folder=None)
    app.secret_key = os.urandom(32)
    # ``max_votes`` per ``per`` is the bench's first window; a higher one raises every other budget in proportion
    # (the defaults are set for 6 a minute), a lower one leaves them as they are.
    factor = max(1.0, max_votes / BENCH_WINDOWS[0].count)
    bench_windows = (Window(max_votes, per), *scaled(BENCH_WINDOWS[1:], factor))
    limit = quota or Quota(clock, bench=bench_windows, per_poll=scaled(POLL_WINDOWS, factor))

    @app.get("/")
    def index() -> Response:
        return send_from_directory(STATIC, "index.html")

    @app.get("/static/<path:name>")
    def static_file(name: str) -> Response:
        return send_from_directory(STATIC, name)

    @app.get("/api/polls")
    def polls() -> Response:
        return jsonify(
            {
                "languages": list(LANGUAGES),
                "polls": [_poll_doc(p) for p in votes.open_polls()],
                "voted": session.get("voted", []),
            }
        )

    @app.get("/api/status")
    def bench_status() -> Response:
        if status is not None:
            return jsonify(status())
        return jsonify(kiosk_status(votes.config(), frozenset(), clock.now()))

    @app.post("/api/votes")
    def cast() -> tuple[Response, int]:
        body = request.get_json(silent=True)
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("poll_id"), str)
            or not isinstance(body.get("option"), str)
        ):
            return _error("bad_request", 'send JSON {"poll_id": ..., "option": ...}', 400)
        voted: list[str] = list(session.get("voted", []))
        if body["poll_id"] in voted:
            return _error("already_voted", "this session already voted in this poll", 409)
        # Only a valid vote spends the budgets: unknown polls, closed polls and unknown options are refused first.
        valid = vote_refusal(votes.open_polls(), body["poll_id"], body["option"], clock.now()) is None
        if valid and not limit.allow(body["poll_id"]):
            return _error("rate_limited", "too many votes on this bench right now, try again later", 429)
        try:
            cast_vote = votes.cast(body["poll_id"], body["option"])  # checks again and names what is wrong
        except VoteRefused as err:
            return _error(err.code, str(err), _REFUSAL_STATUS.get(err.code, 400))
        except OutboxError as err:
            log.error("vote not recorded: %s", err)
            return _error("unavailable", "the vote could not be recorded, please try again later", 503)
        session["voted"] = [*voted, cast_vote.poll_id]
        return jsonify({"id": str(cast_vote.event_id), "poll_id": cast_vote.poll_id, "option": cast_vote.option}), 201

    @app.post("/api/session/end")
    def end_session() -> tuple[Response, int]:
        session.clear()
        return jsonify({"ok": True}), 200

    return app


class KioskServer:
    """The kiosk app on a local port, served by werkzeug in a background thread."""

    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 8080) -> None:
        self._server: BaseWSGIServer = make_server(host, port, app, threaded=True)
        self.host = host
        self.port = int(self._server.server_port)
        self._thread = threading.Thread(target=self._server.serve_forever, name="kiosk", daemon=True)

    @property
    def url(self) -> str:
        """Base URL of the kiosk."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """Serve in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._thread.join(timeout=5)
