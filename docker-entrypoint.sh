#!/bin/sh
# The image's start: migrate, seed the demo catalog when asked, then serve.
# Every setting comes from the environment (README).
set -eu

catalog db upgrade

if [ "${CATALOG_DEMO_SEED:-0}" = "1" ]; then
    catalog seed --demo --if-empty
fi

exec catalog serve --host "${HOST:-0.0.0.0}" --port "${PORT:-8000}" --workers "${WORKERS:-1}" "$@"
