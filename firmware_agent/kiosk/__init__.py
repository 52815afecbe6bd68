"""The touchscreen kiosk: local polls page and vote API."""
