"""Errors: JSON for the API and page scripts, a page in the user's language for a browser; never a stack trace."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import lazy_gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


class ApiError(Exception):
    """An error answered as ``{"error": {"code", "message", ...}}`` with an HTTP status."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


def error_response(status: int, code: str, message: str, **extra: Any) -> tuple[Response, int]:
    """The JSON error envelope of the contract."""
    return jsonify({"error": {"code": code, "message": message, **extra}}), status


def wants_json() -> bool:
    """Tell whether the caller is an API client or a page script (JSON errors) rather than a browser page."""
    if request.path.startswith(("/api/", "/public/api/")) or request.path.endswith(".json"):
        return True
    if request.is_json or request.path == "/metrics":
        return True
    # Page scripts fetch with ``Accept: application/json``; a browser navigating asks for HTML first.
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


#: Title and explanation of the error page per HTTP status (lazy: translated in the viewer's language).
ERROR_TEXTS: dict[int, tuple[Any, Any]] = {
    400: (lazy_gettext("Bad request"), lazy_gettext("The request could not be understood.")),
    401: (lazy_gettext("Please log in"), lazy_gettext("Log in to see this page.")),
    403: (lazy_gettext("Not allowed"), lazy_gettext("Your role does not allow you to open this page.")),
    404: (
        lazy_gettext("Not found"),
        lazy_gettext("This page does not exist, or it belongs to a municipality you cannot see."),
    ),
    405: (lazy_gettext("Not allowed"), lazy_gettext("This address does not take that kind of request.")),
    500: (lazy_gettext("Something went wrong"), lazy_gettext("The error was logged; please try again later.")),
}


#: Statuses whose own message the page shows: it names what the person asked for wrongly (a bad period or
#: language). 403 and 404 stay generic, so no page tells another town's ids apart (issue 8).
_DETAILED = frozenset({400, 409, 422})


def error_page(status: int, detail: str | None = None) -> tuple[str, int]:
    """The error page for ``status`` in the viewer's language (generic texts: internal details stay out)."""
    title, explanation = ERROR_TEXTS.get(status, ERROR_TEXTS[500 if status >= 500 else 400])
    shown = detail if status in _DETAILED else None
    return render_template("error.html", status=status, title=title, explanation=explanation, detail=shown), status


def register_error_handlers(app: Flask) -> None:
    """JSON errors for the API and page scripts; error pages for browsers; 500s logged, never shown."""

    @app.errorhandler(ApiError)
    def _api_error(err: ApiError) -> tuple[Response, int] | tuple[str, int]:
        if not wants_json() and request.method == "GET":
            return error_page(err.status, err.message)
        return error_response(err.status, err.code, err.message, **err.extra)

    @app.errorhandler(CSRFError)
    def _csrf(err: CSRFError) -> tuple[Response, int]:
        return error_response(400, "csrf_failed", str(err.description))

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException) -> Any:
        if wants_json():
            code = (err.name or "error").lower().replace(" ", "_")
            return error_response(err.code or 500, code, err.description or err.name)
        if err.code is None or err.code < 400:
            return err
        return error_page(err.code)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> Any:
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return error_response(500, "internal_error", "internal error; see the server log")
        try:
            return error_page(500)
        except Exception:  # the page itself failed: a plain line, never the trace
            return "internal error; see the server log", 500
