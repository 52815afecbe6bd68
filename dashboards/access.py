"""Who is asking and what they may see: sessions, bearer tokens, roles and municipality scope."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, g, redirect, request, url_for
from flask_login import LoginManager, UserMixin, current_user
from flask_login import login_required as _login_required
from flask_wtf.csrf import CSRFProtect

from dashboards.deps import deps
from dashboards.errors import ApiError, wants_json
from fleet.auth.store import User
from fleet.service_api import Scope
from twins.twin import Twin

F = TypeVar("F", bound=Callable[..., Any])
_STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class SessionUser(UserMixin):  # type: ignore[misc]
    """Flask-Login's view of a stored user."""

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        """Session key: the user name."""
        return self.user.name


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer`` header, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def install_access(app: Flask) -> CSRFProtect:
    """Sessions, bearer tokens and CSRF checks (skipped only for bearer-token requests, which carry no cookie)."""
    manager = LoginManager(app)
    manager.login_view = "auth.login"

    def _load(name: str) -> SessionUser | None:
        user = deps().users.get_user(name)
        return SessionUser(user) if user else None

    def _from_token(_req: Any) -> SessionUser | None:
        token = bearer_token()
        if token is None:
            return None
        user = deps().users.user_for_token(token)
        if user is None:
            return None
        g.via_token = True
        return SessionUser(user)

    def _unauthorized() -> Any:
        if wants_json():
            raise ApiError(401, "unauthenticated", "log in or send Authorization: Bearer <token>")
        return redirect(url_for("auth.login", next=request.full_path))

    manager.user_loader(_load)
    manager.request_loader(_from_token)
    manager.unauthorized_handler(_unauthorized)

    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.config["WTF_CSRF_TIME_LIMIT"] = None
    csrf = CSRFProtect(app)

    @app.before_request
    def _csrf_unless_token() -> None:
        if request.method in _STATE_CHANGING and bearer_token() is None:
            csrf.protect()

    return csrf


def login_required(view: F) -> F:
    """Flask-Login's ``login_required`` with its type kept."""
    return cast(F, _login_required(view))


def me() -> User:
    """The logged-in user (call only behind ``login_required``)."""
    return cast(SessionUser, current_user).user


def scope() -> Scope:
    """What the logged-in user may see."""
    return me().scope()


def require(permission: str) -> Callable[[F], F]:
    """Refuse with 403 unless the user's role grants ``permission``."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not me().can(permission):
                raise ApiError(403, "forbidden", f"role {me().role} may not {permission.replace('_', ' ')}")
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorate


def visible_twin(bench_id: str) -> Twin:
    """The twin if it exists (404) and the user may see it (403)."""
    twin = deps().fleet.get_twin(bench_id)
    if twin is None:
        raise ApiError(404, "unknown_bench", f"no bench {bench_id!r}")
    if not scope().allows(twin.attributes.municipality):
        raise ApiError(403, "forbidden", f"bench {bench_id!r} belongs to another municipality")
    return twin


#: Top-level config keys that need a permission other than "configure".
KEY_PERMISSIONS: dict[str, str] = {"polls": "edit_polls"}


def require_patch_rights(patch: Any) -> None:
    """403 unless the user may change every top-level key of a desired-config merge patch."""
    if not isinstance(patch, dict):
        return  # the validator names the problem (422)
    user = me()
    denied = sorted(k for k in patch if not user.can(KEY_PERMISSIONS.get(k, "configure")))
    if denied:
        raise ApiError(403, "forbidden", f"role {user.role} may not change: {', '.join(denied)}", fields=denied)
