"""Scenarios: TOML files that schedule faults per bench, their validation and their effects over time."""
