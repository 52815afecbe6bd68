"""Seed data: the default fleet."""
