"""Errors raised by the bench physics."""

from __future__ import annotations


class PhysicsError(ValueError):
    """Base class: invalid input to a physics function."""


class UnknownSiteError(PhysicsError):
    """A municipality or site without climatology."""
