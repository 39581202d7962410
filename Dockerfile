# The foundation-telemetry demo service, for docker-compose.yml. The base image is pinned in .env
# and passed as a build argument; the default below is the same tag.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm
FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install ".[demo]" \
    && useradd --create-home --uid 10001 demo

USER demo

# Exports to OTEL_EXPORTER_OTLP_ENDPOINT (set by docker-compose.yml to the Collector).
ENV OTEL_SERVICE_NAME=foundation-demo \
    OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf

CMD ["foundation-telemetry", "demo", "--duration", "300"]
