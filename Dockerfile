# Wattson: one image for every role (wattson serve --role all|gateway|api|worker).
# docs/deployment.md describes the processes, compose.yaml runs them.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WATTSON_HOST=0.0.0.0

# An unprivileged user with a home of its own: the working directory, where the default SQLite
# database (role all, no WATTSON_DATABASE_URL) would be written.
RUN groupadd --system --gid 10001 wattson \
 && useradd --system --uid 10001 --gid wattson --home-dir /var/lib/wattson --create-home \
            --shell /usr/sbin/nologin wattson

WORKDIR /src
COPY pyproject.toml requirements.lock README.md ./
COPY wattson ./wattson
# The pinned versions of requirements.lock, without the dev extras; every dependency has a wheel
# for this platform, so no compiler is needed. The source is not kept.
RUN pip install --no-cache-dir -c requirements.lock . \
 && rm -rf /src

WORKDIR /var/lib/wattson
USER 10001:10001

# HTTP and ws:// (WATTSON_PORT); 8443 only serves with WATTSON_TLS_CERT and WATTSON_TLS_KEY set.
EXPOSE 8180 8443

# Liveness only (the process answers); readiness, /health/ready, is for the balancer.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('WATTSON_PORT', '8180'), timeout=4)"]

ENTRYPOINT ["wattson"]
CMD ["serve", "--role", "all"]
