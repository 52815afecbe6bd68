"""Settings of the dashboard app, fixed at start."""

from __future__ import annotations

from dataclasses import dataclass

from fleet.auth.store import LOCALES


@dataclass(frozen=True, slots=True)
class DashboardConfig:
    """Everything ``create_app`` needs besides the fleet and the user store."""

    secret_key: str
    public_results: bool = False
    tile_url: str | None = None
    tile_attribution: str = ""
    secure_cookies: bool = True
    socketio_message_queue: str | None = None
    default_locale: str = "bs"
    login_rate_limit: str = "5 per minute"
    live_interval_s: float = 0.5
    testing: bool = False

    def __post_init__(self) -> None:
        """Refuse settings that cannot work, naming the fix."""
        if len(self.secret_key) < 16:
            raise ValueError("dashboard secret_key must be at least 16 characters (set a random secret)")
        if self.default_locale not in LOCALES:
            raise ValueError(f"default_locale {self.default_locale!r} unknown: use one of {', '.join(LOCALES)}")
        if self.tile_url is not None and not self.tile_url.startswith(("https://", "http://")):
            raise ValueError("tile_url must be an http(s) URL template such as https://tile.example/{z}/{x}/{y}.png")
        if not 0.05 <= self.live_interval_s <= 5:
            raise ValueError("live_interval_s must be between 0.05 and 5 seconds")
