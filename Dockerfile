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
RUN pip install . && useradd --system --home /var/lib/benchfleet benchfleet \
    && mkdir -p /var/lib/benchfleet && chown benchfleet /var/lib/benchfleet
USER benchfleet
ENV BENCHFLEET_DATA_DIR=/var/lib/benchfleet
EXPOSE 5000
ENTRYPOINT ["benchfleet"]
CMD ["serve"]
