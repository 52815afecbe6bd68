"""Dashboard users, roles and API tokens."""

from fleet.auth.store import LOCALES, PERMISSIONS, ROLES, Role, TokenInfo, User, UserError, UserStore

__all__ = ["LOCALES", "PERMISSIONS", "ROLES", "Role", "TokenInfo", "User", "UserError", "UserStore"]
