"""Flask + Socket.IO dashboards and the JSON API."""
