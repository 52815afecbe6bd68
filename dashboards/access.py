"""Who is asking and what they may see: sessions, bearer tokens, roles and municipality scope."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, g, redirect, request, url_for
from flask_login import LoginManager, UserMixin, current_user
from flask_login import login_required as _login_required
from flask_wtf.csrf import CSRFProtect
from pydantic import ValidationError

from dashboards.deps import deps
from dashboards.errors import ApiError, wants_json
from fleet.auth.store import User
from fleet.service_api import Scope
from twins.config import Poll
from twins.twin import Twin

F = TypeVar("F", bound=Callable[..., Any])
_STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Endpoints that accept a write from someone not logged in (each still needs its CSRF token).
ANONYMOUS_WRITES = frozenset({"auth.login", "auth.set_locale"})


class SessionUser(UserMixin):  # type: ignore[misc]
    """Flask-Login's view of a stored user, with the credential it came by (session version or token id)."""

    def __init__(self, user: User, session_id: str | None = None, token_id: int | None = None) -> None:
        self.user = user
        self.session_id = session_id
        self.token_id = token_id

    def get_id(self) -> str:
        """Session key: the user's session version, never the name (see fleet.auth.store users.session_id)."""
        return self.session_id or ""


def start_session(user: User) -> SessionUser:
    """The session user for a fresh login (its cookie carries the user's current session version)."""
    return SessionUser(user, session_id=deps().users.session_id(user.name))


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer`` header, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def install_access(app: Flask) -> CSRFProtect:
    """Sessions, bearer tokens and CSRF checks (skipped only for bearer-token requests, which carry no cookie)."""
    manager = LoginManager(app)
    manager.login_view = "auth.login"

    def _load(session_id: str) -> SessionUser | None:
        # Looked up by the random session version only: a cookie forged with a user name finds no one, and a
        # removed user, a changed password or "log out everywhere" ends every cookie issued before.
        user = deps().users.user_for_session(session_id)
        return SessionUser(user, session_id=session_id) if user else None

    def _from_token(_req: Any) -> SessionUser | None:
        token = bearer_token()
        if token is None:
            return None
        users = deps().users
        user = users.user_for_token(token)
        token_id = users.token_id(token) if user else None
        if user is None or token_id is None:
            return None
        g.via_token = True
        return SessionUser(user, token_id=token_id)

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
        if request.method not in _STATE_CHANGING:
            return
        # Who is asking comes first: an anonymous write (no session, or a wrong/expired token) is a 401,
        # whatever else is wrong with it. Only the login and language forms take anonymous writes.
        if request.endpoint not in ANONYMOUS_WRITES and not current_user.is_authenticated:
            raise ApiError(401, "unauthenticated", "log in or send Authorization: Bearer <token>")
        if bearer_token() is None:
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
    """The twin if it exists and the user may see it; one 404 for both cases, so ids of other towns stay unknown."""
    twin = deps().fleet.get_twin(bench_id)
    if twin is None or not scope().allows(twin.attributes.municipality):
        raise ApiError(404, "unknown_bench", f"no bench {bench_id!r}")
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


def require_poll_ids_free(poll_ids: Iterable[str], claimer: str | None) -> None:
    """409 unless the user's municipalities own these poll ids; admins may use any id.

    Unclaimed ids are claimed for ``claimer`` (a municipality; None: the whole fleet) in the ``polls``
    table, or adopted by the towns already using them. Without this a municipal user could reuse another
    town's id: its question replaced on the public pages, tallies merged.
    """
    wanted = sorted(set(poll_ids))
    if not wanted:
        return
    mine = me().scope().municipalities
    owners = deps().fleet.claim_polls(wanted, claimer, me().name)
    if mine is None:
        return
    for poll_id in wanted:
        if owners.get(poll_id) not in mine:
            raise ApiError(
                409, "poll_id_taken", f"poll id {poll_id!r} belongs to another municipality or the fleet: pick another"
            )


def changed_poll_ids(twin: Twin, patch: Any) -> set[str]:
    """Poll ids a desired-config patch adds, removes or changes on ``twin`` (an invalid patch: none, 422 follows)."""
    if not isinstance(patch, dict) or not isinstance(patch.get("polls"), list):
        return set()
    current = {p.id: p.model_dump(mode="json") for p in twin.desired.polls}
    proposed: dict[str, Any] = {}
    for doc in patch["polls"]:
        try:
            poll = Poll.model_validate(doc, strict=False)
        except ValidationError:
            return set()
        proposed[poll.id] = poll.model_dump(mode="json")
    return {pid for pid in current.keys() | proposed.keys() if current.get(pid) != proposed.get(pid)}
