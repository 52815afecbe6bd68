"""Ingestion: MQTT in, decoded and validated, into twins and the stores."""
