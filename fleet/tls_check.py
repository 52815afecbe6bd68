"""A start-up check of the broker's TLS certificate, so a wrong CA is one clear line instead of silent retries.

paho retries a failed TLS handshake forever in its network thread and says nothing at the default log level;
a bench with the wrong CA file would look merely offline. This check runs once at start: an unreachable
broker is fine (the bench must start offline and buffer), an untrusted certificate stops the start.
"""

from __future__ import annotations

import socket
import ssl
from pathlib import Path


class TlsTrustError(ValueError):
    """The broker answered, but its certificate is not trusted; the message names the CA and the fix."""


def check_broker_tls(host: str, port: int, ca_file: Path | None, setting: str, timeout_s: float = 5.0) -> bool:
    """Handshake once with certificate and host name verification; True if verified, False if unreachable."""
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    trusted_by = f"CA file {ca_file}" if ca_file else "the system CAs (or SSL_CERT_FILE)"
    try:
        with (
            socket.create_connection((host, port), timeout=timeout_s) as raw,
            context.wrap_socket(raw, server_hostname=host),
        ):
            return True
    except ssl.SSLCertVerificationError as err:
        raise TlsTrustError(
            f"{setting}: the certificate of {host}:{port} is not trusted by {trusted_by} "
            f"({err.verify_message}); give the CA that signed the broker's certificate"
        ) from None
    except ssl.SSLError as err:
        raise TlsTrustError(f"{setting}: TLS with {host}:{port} failed ({err.reason}); is it a TLS listener?") from None
    except OSError:
        return False  # not reachable now: the process starts and keeps retrying
