"""What an OTA signature covers: the release's version, the bench model it is built for and its bytes' hash.

Signing only the bytes let anyone who captured an older signed release replay it (a downgrade to a version
with a known flaw) or send a release built for another model. The signed message binds all three, and the
agent refuses any version not newer than the running one unless the command is an explicit rollback.
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from packaging.version import InvalidVersion, Version
from pydantic import Field

from twins.messages import OtaArgs

from .verify import OtaRejected

#: Prefix of every signed message: a signature made for anything else (or an older format) never verifies.
DOMAIN = "benchfleet-ota-v2"


class OtaRequest(OtaArgs):
    """The ``ota`` command's args as the agent reads them: the contract's, plus an explicit rollback flag."""

    rollback: bool = Field(default=False, description="allow installing a version older than the running one")


def release_message(version: str, model: str, sha256_hex: str) -> bytes:
    """The bytes an OTA signature is made over (one line per field, so no field can bleed into another)."""
    for name, value in (("version", version), ("model", model)):
        if "\n" in value:
            raise ValueError(f"{name} must be one line")
    return f"{DOMAIN}\nversion={version}\nmodel={model}\nsha256={sha256_hex.lower()}\n".encode()


def sign_release(key: Ed25519PrivateKey, version: str, model: str, sha256_hex: str) -> str:
    """The base64 signature for the ``ota`` command's ``signature`` (the fleet's release key signs)."""
    return base64.b64encode(key.sign(release_message(version, model, sha256_hex))).decode()


def check_upgrade(offered: str, running: str, rollback: bool) -> None:
    """Raise OtaRejected unless ``offered`` is newer than ``running``, or older and ``rollback`` asks for it."""
    try:
        new, old = Version(offered), Version(running)
    except InvalidVersion as err:
        if rollback:
            return  # an operator's explicit rollback may leave a version scheme the bench cannot compare
        raise OtaRejected(f"cannot compare versions {offered!r} and {running!r}: {err}") from err
    if new == old:
        raise OtaRejected(f"version {offered} is already running")
    if new < old and not rollback:
        raise OtaRejected(f"version {offered} is older than the running {running}: a downgrade needs rollback=true")
