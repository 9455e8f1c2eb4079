# syntax=docker/dockerfile:1
# Build: docker build -t catalog .
# Run:   docker run -p 8000:8000 -e CATALOG_WRITE_TOKENS=... -e CATALOG_DATABASE_URL=... catalog
# Demo:  docker run -p 8000:8000 -e CATALOG_WRITE_TOKENS=... -e CATALOG_DEMO_SEED=1 catalog

# python:3.11-slim (Python 3.11.15, Debian trixie), pinned by the digest of its multi-platform
# index as recorded by the official images' docker-library/repo-info. Move it on purpose.
ARG PYTHON_IMAGE=python:3.11-slim@sha256:90744cff8f32887f075c47d747a173ff333e9e98801667af93c357fa9f5e28ff

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
# Dependencies exactly as locked (every file checked against its hash), before the source,
# so that a change to the code reuses this layer.
COPY requirements/runtime.txt requirements/build.txt requirements/
RUN python -m venv /opt/build \
 && /opt/build/bin/pip install --no-cache-dir --require-hashes -r requirements/build.txt \
 && python -m venv /opt/catalog \
 && /opt/catalog/bin/pip install --no-cache-dir --require-hashes -r requirements/runtime.txt
COPY pyproject.toml README.md ./
COPY db ./db
COPY resolvers ./resolvers
COPY schema ./schema
COPY server ./server
# The project itself: built with the locked backend, installed without touching its pins.
RUN /opt/build/bin/pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /wheels . \
 && /opt/catalog/bin/pip install --no-cache-dir --no-deps /wheels/catalog-*.whl

FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 catalog \
 && useradd --system --create-home --home-dir /app --uid 10001 --gid 10001 catalog
COPY --from=build /opt/catalog /opt/catalog
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/opt/catalog/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CATALOG_DATABASE_URL=sqlite+aiosqlite:////app/data/catalog.db \
    HOST=0.0.0.0 \
    PORT=8000 \
    WORKERS=1
WORKDIR /app
RUN mkdir -p /app/data && chown catalog:catalog /app/data
# The SQLite default lives here: mount a volume to keep it across containers.
VOLUME ["/app/data"]
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['PORT'], timeout=2)"]
# Migrations (one replica at a time), the demo catalog when CATALOG_DEMO_SEED=1, then serve.
# Listening on 0.0.0.0, the server refuses to start without CATALOG_WRITE_TOKENS.
ENTRYPOINT ["docker-entrypoint.sh"]
