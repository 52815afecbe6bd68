"""JSON errors for the API: one exception type, one envelope, never a stack trace."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, request
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
    """Tell whether the caller is an API client (JSON errors) rather than a browser page."""
    return request.path.startswith(("/api/", "/public/api/")) or request.is_json or request.path == "/metrics"


def register_error_handlers(app: Flask) -> None:
    """JSON errors under /api; plain HTTP errors elsewhere; 500s logged, never shown."""

    @app.errorhandler(ApiError)
    def _api_error(err: ApiError) -> tuple[Response, int]:
        return error_response(err.status, err.code, err.message, **err.extra)

    @app.errorhandler(CSRFError)
    def _csrf(err: CSRFError) -> tuple[Response, int]:
        return error_response(400, "csrf_failed", str(err.description))

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException) -> Any:
        if wants_json():
            code = (err.name or "error").lower().replace(" ", "_")
            return error_response(err.code or 500, code, err.description or err.name)
        return err

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> Any:
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return error_response(500, "internal_error", "internal error; see the server log")
        return "internal error; see the server log", 500
