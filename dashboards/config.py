"""Settings of the dashboard app, fixed at start."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from limits import parse_many

from fleet.auth.store import LOCALES
from fleet.secret_key import check_not_published


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
    #: Failed logins allowed per client address, and per account name (growing windows: a backoff).
    login_rate_limit: str = "10 per minute;50 per hour"
    login_account_limits: str = "5 per minute;20 per hour;50 per day"
    #: Where the login counters live: memory:// (one process) or redis://... (shared by every dashboard).
    login_limit_storage: str = "memory://"
    #: Addresses or networks of reverse proxies whose X-Forwarded-For is believed (none by default).
    trusted_proxies: tuple[str, ...] = ()
    live_interval_s: float = 0.5
    testing: bool = False
    #: Simulated seconds per real second when the fleet runs on a simulated clock (the demo); None: wall clock.
    #: Every page then shows a "simulated time" badge, since its timestamps are not the wall clock's.
    simulated_speed: float | None = None
    #: Each simulated bench's kiosk page (bench id → URL), linked from the bench page (the demo serves them).
    kiosk_urls: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        """Refuse settings that cannot work, naming the fix."""
        # The full check (placeholders, made-up words, entropy) is done on BENCHFLEET_SECRET_KEY by the settings.
        check_not_published(self.secret_key, setting="dashboard secret_key")
        if self.default_locale not in LOCALES:
            raise ValueError(f"default_locale {self.default_locale!r} unknown: use one of {', '.join(LOCALES)}")
        if self.tile_url is not None and not self.tile_url.startswith(("https://", "http://")):
            raise ValueError("tile_url must be an http(s) URL template such as https://tile.example/{z}/{x}/{y}.png")
        for limit in (self.login_rate_limit, self.login_account_limits):
            try:
                parse_many(limit)
            except ValueError as err:
                raise ValueError(f"login limit {limit!r} is not like '5 per minute;20 per hour'") from err
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError as err:
                raise ValueError(f"trusted proxy {proxy!r} is not an IP address or network") from err
        if not 0.05 <= self.live_interval_s <= 5:
            raise ValueError("live_interval_s must be between 0.05 and 5 seconds")
