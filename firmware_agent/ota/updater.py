"""Running an ``ota`` command: download, verify, stage, switch; progress goes out as ``ota_progress``."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import PurePosixPath
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from twins.messages import OtaProgressData

from .manifest import OtaRequest, check_upgrade, release_message
from .releases import ReleaseStore
from .verify import OtaRejected, verify_artifact

MAX_ARTIFACT_BYTES = 256 * 1024 * 1024
DOWNLOAD_TIMEOUT_S = 30.0

Progress = Callable[[OtaProgressData], None]


class OtaFailed(Exception):
    """The update could not be carried out (download or disk error); the running version stays."""


def download(url: str, limit: int = MAX_ARTIFACT_BYTES, timeout_s: float = DOWNLOAD_TIMEOUT_S) -> bytes:
    """Fetch an artifact over HTTP(S), refusing anything larger than ``limit`` bytes."""
    try:
        with requests.get(url, stream=True, timeout=timeout_s) as resp:
            resp.raise_for_status()
            chunks: list[bytes] = []
            size = 0
            for chunk in resp.iter_content(chunk_size=65536):
                size += len(chunk)
                if size > limit:
                    raise OtaFailed(f"artifact larger than {limit} bytes")
                chunks.append(chunk)
    except requests.RequestException as err:
        raise OtaFailed(f"download failed: {err}") from err
    return b"".join(chunks)


class OtaUpdater:
    """Installs signed artifacts into a ReleaseStore; the caller restarts the agent after ``install``."""

    def __init__(
        self,
        store: ReleaseStore,
        public_key: Ed25519PublicKey | None,
        fetch: Callable[[str], bytes] = download,
    ) -> None:
        self.store = store
        self.public_key = public_key
        self.fetch = fetch

    def install(self, args: OtaRequest, running: str, model: str, progress: Progress) -> None:
        """Download, verify (signed for this version and bench ``model``), stage and switch to ``args.version``;
        raise OtaRejected (also for a version not newer than ``running`` unless ``args.rollback``) or OtaFailed."""

        def step(stage: str, error: str | None = None) -> None:
            progress(OtaProgressData(version=args.version, stage=stage, error=error))  # type: ignore[arg-type]

        if self.public_key is None:
            raise OtaRejected("no OTA public key configured on this bench")
        # Refused before downloading anything: a replayed older release costs the bench no bandwidth.
        check_upgrade(args.version, running, args.rollback)
        step("downloading")
        data = self.fetch(args.url)
        step("verifying")
        verify_artifact(
            data, args.sha256, args.signature, self.public_key, release_message(args.version, model, args.sha256)
        )
        name = PurePosixPath(urlsplit(args.url).path).name or "artifact"
        try:
            self.store.stage(args.version, data, name)
            step("staged")
            step("switching")
            self.store.begin_trial(args.version, previous=running)
        except (OSError, ValueError) as err:
            raise OtaFailed(f"staging failed: {err}") from err


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of ``data`` (for publishing artifacts)."""
    return hashlib.sha256(data).hexdigest()
