# syntax=docker/dockerfile:1
# Build: docker build -t catalog .
# Run:   docker run -p 8000:8000 -e CATALOG_WRITE_TOKENS=... -e CATALOG_DATABASE_URL=... catalog

FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/catalog
COPY pyproject.toml README.md ./
COPY db ./db
COPY resolvers ./resolvers
COPY schema ./schema
COPY server ./server
RUN /opt/catalog/bin/pip install --no-cache-dir --upgrade pip \
 && /opt/catalog/bin/pip install --no-cache-dir .

FROM python:3.11-slim
RUN useradd --system --create-home --home-dir /app --uid 10001 catalog
COPY --from=build /opt/catalog /opt/catalog
ENV PATH=/opt/catalog/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CATALOG_DATABASE_URL=sqlite+aiosqlite:////app/data/catalog.db \
    HOST=0.0.0.0 \
    PORT=8000 \
    WORKERS=1
WORKDIR /app
RUN mkdir -p /app/data && chown catalog:catalog /app/data
USER catalog
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['PORT'], timeout=2)"
# Migrations first, then serve; every setting comes from the environment (see README).
# Listening on 0.0.0.0, the server refuses to start without CATALOG_WRITE_TOKENS.
CMD ["sh", "-c", "catalog db upgrade && exec catalog serve --host \"$HOST\" --port \"$PORT\" --workers \"$WORKERS\""]
