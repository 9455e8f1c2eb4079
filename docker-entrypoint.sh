#!/bin/sh
# The image's start: migrate, seed the demo catalog when asked, then serve.
# Every setting comes from the environment (docs/settings.md).
set -eu

# Replicas may start together: on PostgreSQL the upgrade holds an advisory lock, so one
# migrates and the others wait for it, then find nothing left to do.
catalog db upgrade

if [ "${CATALOG_DEMO_SEED:-0}" = "1" ]; then
    catalog seed --demo --if-empty
fi

# exec: the server is the container's main process and receives docker stop's SIGTERM.
exec catalog serve --host "${HOST:-0.0.0.0}" --port "${PORT:-8000}" --workers "${WORKERS:-1}" "$@"
