# BenchFleet server image (serve, ingest, simulate). Built from this repository:
#   docker build -t benchfleet .
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY twins twins
COPY mqttlink mqttlink
COPY fleet fleet
COPY firmware_agent firmware_agent
COPY dashboards dashboards
COPY simulator simulator
# Group 1883 is the eclipse-mosquitto image's `mosquitto` group: the broker reads the password and ACL files
# that `benchfleet provision` writes (mode 0640) in the shared broker folder.
RUN pip install . && groupadd --system --gid 1883 broker \
    && useradd --system --gid 1883 --home /var/lib/benchfleet benchfleet \
    && mkdir -p /var/lib/benchfleet /var/lib/benchfleet-broker \
    && chown benchfleet /var/lib/benchfleet && chown benchfleet:1883 /var/lib/benchfleet-broker
USER benchfleet
ENV BENCHFLEET_DATA_DIR=/var/lib/benchfleet
EXPOSE 5000
ENTRYPOINT ["benchfleet"]
CMD ["serve"]
