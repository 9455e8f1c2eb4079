"""The process entry point uvicorn imports: settings from the environment, then the app."""

from __future__ import annotations

from starlette.applications import Starlette

from server.app import create_app
from server.config.settings import Settings
from server.observability.logs import configure
from server.process import heap
from server.process.uvicorn_compat import bound_request_headers


def app_from_env() -> Starlette:
    settings = Settings.from_env()
    configure(settings.log_level)
    # Each process (every worker too) runs this before uvicorn makes its first connection.
    bound_request_headers(settings.header_timeout_ms / 1000)
    app = create_app(settings)
    heap.settle(settings.gc_young_threshold)  # last: freezes what start-up built
    return app
