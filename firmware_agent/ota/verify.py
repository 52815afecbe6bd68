"""Checking an update artifact: SHA-256 and an Ed25519 signature (over version, model and hash) against the
bench's public key."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key


class OtaRejected(Exception):
    """An artifact that must not be installed; the message says why."""


def load_public_key(path: Path) -> Ed25519PublicKey:
    """Read an Ed25519 public key: PEM (``openssl pkey -pubout``) or the raw 32 bytes in base64."""
    data = path.read_bytes()
    try:
        if b"BEGIN PUBLIC KEY" in data:
            key = load_pem_public_key(data)
            if not isinstance(key, Ed25519PublicKey):
                raise ValueError("not an Ed25519 key")
            return key
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(data.strip(), validate=True))
    except (ValueError, binascii.Error) as err:
        raise ValueError(f"OTA public key {path}: {err}") from err


def verify_artifact(data: bytes, sha256_hex: str, signature_b64: str, key: Ed25519PublicKey, signed: bytes) -> None:
    """Raise OtaRejected unless ``data`` has the announced hash and ``signature_b64`` signs ``signed`` (the
    release message, firmware_agent.ota.manifest.release_message, which holds that hash)."""
    digest = hashlib.sha256(data).hexdigest()
    if not hmac.compare_digest(digest, sha256_hex.lower()):
        raise OtaRejected(f"sha256 mismatch: artifact has {digest}, command says {sha256_hex}")
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (ValueError, binascii.Error) as err:
        raise OtaRejected("signature is not valid base64") from err
    try:
        key.verify(signature, signed)
    except InvalidSignature as err:
        raise OtaRejected(
            "Ed25519 signature does not verify with the bench's public key for this version, model and artifact"
        ) from err
