"""Plotly figure builders: pure functions from fleet data to figure dicts (``{"data", "layout"}``)."""
