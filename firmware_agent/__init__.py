"""The program that runs on every bench: hardware, sampler, outbox, MQTT link, config, kiosk, OTA."""
