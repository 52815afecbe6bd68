"""Signed firmware releases registered with the fleet: one artifact per (version, bench model).

The artifact itself is hosted at ``url`` (any HTTP server the benches reach); the fleet keeps what the ``ota``
command needs. The signature is made offline over the release message (firmware_agent/ota/manifest.py) and
checked by every bench, so the fleet never holds the signing key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Column, DateTime, Engine, Integer, String, Table, Text, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError

from fleet.db.metadata import metadata
from fleet.ops.audit import AuditLog
from twins.clock import Clock, to_rfc3339
from twins.codec import describe_errors
from twins.messages import OtaArgs

firmware_releases = Table(
    "firmware_releases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version", String(64), nullable=False),
    Column("model", String(64), nullable=False),
    Column("url", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("signature", String(200), nullable=False),
    Column("uploaded_by", String(64), nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("version", "model", name="uq_firmware_releases_version_model"),
)
_f = firmware_releases.c


class ReleaseRefused(ValueError):
    """A release that cannot be registered; the message names what is wrong."""


@dataclass(frozen=True, slots=True)
class Release:
    """A registered release: the ``ota`` args for benches of one model."""

    version: str
    model: str
    url: str
    sha256: str
    signature: str
    uploaded_by: str
    uploaded_at: datetime

    def ota_args(self, rollback: bool = False) -> dict[str, Any]:
        """The ``ota`` command's args (``rollback`` lets the bench install an older version)."""
        args: dict[str, Any] = {"version": self.version, "url": self.url, "sha256": self.sha256}
        args["signature"] = self.signature
        if rollback:
            args["rollback"] = True
        return args

    def as_json(self) -> dict[str, Any]:
        """The API form."""
        return {
            "version": self.version,
            "model": self.model,
            "url": self.url,
            "sha256": self.sha256,
            "signature": self.signature,
            "uploaded_by": self.uploaded_by,
            "uploaded_at": to_rfc3339(self.uploaded_at),
        }


def _release(row: Any) -> Release:
    at = row.uploaded_at if row.uploaded_at.tzinfo else row.uploaded_at.replace(tzinfo=UTC)
    return Release(row.version, row.model, row.url, row.sha256, row.signature, row.uploaded_by, at)


class ReleaseStore:
    """Registers releases (audited) and finds the one for a version and model."""

    def __init__(self, engine: Engine, audit: AuditLog, clock: Clock) -> None:
        self._engine = engine
        self._audit = audit
        self._clock = clock

    def register(self, doc: Any, actor: str) -> Release:
        """Register ``{"version", "model", "url", "sha256", "signature"}``; ReleaseRefused names a bad field or
        a (version, model) already registered (a published release is never replaced)."""
        if not isinstance(doc, dict):
            raise ReleaseRefused("the body must be a JSON object with version, model, url, sha256, signature")
        model = doc.get("model")
        if not isinstance(model, str) or not model or len(model) > 64 or "\n" in model:
            raise ReleaseRefused("model: the bench model the release is built for (as benches report it)")
        try:
            args = OtaArgs.model_validate({k: doc.get(k) for k in ("version", "url", "sha256", "signature")})
        except ValidationError as err:
            raise ReleaseRefused(describe_errors(err)) from err
        now = self._clock.now()
        row = {**args.model_dump(), "model": model, "uploaded_by": actor, "uploaded_at": now}
        try:
            with self._engine.begin() as conn:
                conn.execute(firmware_releases.insert().values(**row))
                after = {k: row[k] for k in ("version", "model", "url", "sha256")}
                self._audit.record(
                    actor, "firmware.release", f"firmware:{args.version}/{model}", None, after, conn=conn
                )
        except IntegrityError as err:
            raise ReleaseRefused(f"version {args.version} for model {model} is already registered") from err
        found = self.get(args.version, model)
        assert found is not None
        return found

    def get(self, version: str, model: str) -> Release | None:
        """The release of ``version`` for ``model``, or None."""
        with self._engine.connect() as conn:
            row = conn.execute(select(firmware_releases).where(_f.version == version, _f.model == model)).first()
        return _release(row) if row else None

    def all(self) -> list[Release]:
        """Every release, newest first."""
        with self._engine.connect() as conn:
            return [_release(r) for r in conn.execute(select(firmware_releases).order_by(_f.id.desc()))]
