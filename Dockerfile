# syntax=docker/dockerfile:1
# Leerkring: multi-stage build, non-root, health-checked. The install step is the README's:
# a virtual environment with `pip install .`. Linted with hadolint in the test command.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY prompts ./prompts
COPY storage ./storage
RUN python3 -m venv /opt/leerkring && /opt/leerkring/bin/pip install --no-cache-dir .
# The strict privacy guard loads deduce's name lists from a cache inside the package; build it
# here, where the folder is writable, instead of at the first container start.
RUN /opt/leerkring/bin/leerkring privacy prepare-guard

FROM python:3.11-slim
# A fixed numeric user and group, so that the container runs as non-root even where the image's
# /etc/passwd is not consulted (Kubernetes runAsNonRoot), and so that a mounted /data can be
# given to 10001 on the host.
RUN groupadd --system --gid 10001 leerkring \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home leerkring \
    && mkdir -p /data && chown 10001:10001 /data
COPY --from=build /opt/leerkring /opt/leerkring
ENV PATH="/opt/leerkring/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    PORT=3000 \
    DATABASE_URL=sqlite:////data/leerkring.db
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
# 3000: Slack and Teams. Metrics (LEERKRING_METRICS_PORT, 9464) listen on 127.0.0.1 inside the
# container unless LEERKRING_METRICS_HOST says otherwise (compose.yaml, docs/operations.md).
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]
CMD ["leerkring", "serve"]
