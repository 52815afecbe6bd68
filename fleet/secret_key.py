"""The dashboard's session-signing key: refuse weak or published keys, or keep a generated one in the data folder.

Anyone who knows the key can sign a session cookie, so a key that appears in documentation, compose files or
tutorials (or one short enough to guess) is as good as no login at all.
"""

from __future__ import annotations

import math
import os
import secrets
from collections import Counter
from pathlib import Path

#: Estimated entropy a key needs, in bits (a 128-bit key cannot be brute-forced offline).
MIN_ENTROPY_BITS = 128
MIN_LENGTH = 32
KEY_FILE = "secret_key"

#: Keys (lower-cased) that were published somewhere, ours included; the words mark placeholders in general.
KNOWN_KEYS = frozenset(
    {
        "replace-with-a-long-random-secret",
        "change-me",
        "changeme",
        "secret",
        "dev",
        "development",
        "your-secret-key",
        "super-secret-key",
    }
)
# Words a person types when making a key up; a generated key contains one of them about once in a million.
_PLACEHOLDER_WORDS = ("replace", "change", "example", "placeholder", "secret", "password", "insecure", "default")

FIX = (
    "generate one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))', "
    "or unset it to keep a generated key"
)


class WeakSecretKey(ValueError):
    """The key is a known placeholder or too weak; the message is one line naming the fix."""


def estimated_bits(key: str) -> float:
    """A conservative entropy estimate: length times the Shannon entropy of the key's own characters."""
    if not key:
        return 0.0
    counts = Counter(key)
    per_char = sum(n / len(key) * math.log2(len(key) / n) for n in counts.values())
    return per_char * len(key)


def check_secret_key(key: str, setting: str = "BENCHFLEET_SECRET_KEY") -> str:
    """Return ``key`` if it is fit to sign sessions; raise WeakSecretKey naming ``setting`` otherwise."""
    low = key.strip().lower()
    if low in KNOWN_KEYS:
        raise WeakSecretKey(f"{setting}: a published placeholder is not a secret; {FIX}")
    word = next((w for w in _PLACEHOLDER_WORDS if w in low), None)
    if word is not None:
        raise WeakSecretKey(f"{setting}: looks made up (contains {word!r}), not generated; {FIX}")
    if len(key) < MIN_LENGTH:
        raise WeakSecretKey(f"{setting}: too short ({len(key)} characters, at least {MIN_LENGTH}); {FIX}")
    if estimated_bits(key) < MIN_ENTROPY_BITS:
        raise WeakSecretKey(f"{setting}: too predictable (about {estimated_bits(key):.0f} bits); {FIX}")
    return key


def check_not_published(key: str, setting: str) -> str:
    """The weaker check for code that builds a dashboard directly (tests, embedding): no published key, 16+ chars.

    Operator input (``BENCHFLEET_SECRET_KEY``, the key file) always gets ``check_secret_key``.
    """
    if key.strip().lower() in KNOWN_KEYS:
        raise WeakSecretKey(f"{setting}: a published placeholder is not a secret; {FIX}")
    if len(key) < 16:
        raise WeakSecretKey(f"{setting}: too short ({len(key)} characters); {FIX}")
    return key


def generate_secret_key() -> str:
    """A new random key (256 bits)."""
    return secrets.token_urlsafe(32)


def load_or_create_secret_key(data_dir: Path) -> str:
    """The key kept in ``data_dir/secret_key``, created (mode 0600) on first use; a weak stored key is refused."""
    path = data_dir / KEY_FILE
    if path.exists():
        return check_secret_key(path.read_text(encoding="utf-8").strip(), setting=str(path))
    data_dir.mkdir(parents=True, exist_ok=True)
    key = generate_secret_key()
    tmp = data_dir / f".{KEY_FILE}.{secrets.token_hex(8)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(key)
    try:
        # A hard link appears whole and fails if the name exists: two processes starting at once agree on one key.
        os.link(tmp, path)
    except FileExistsError:
        key = check_secret_key(path.read_text(encoding="utf-8").strip(), setting=str(path))
    finally:
        tmp.unlink()
    return key
