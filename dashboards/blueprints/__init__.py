"""One blueprint per area: auth, pages (fleet, bench), participation, configuration, API, public."""
