"""The process entry point uvicorn imports: settings from the environment, then the app."""

from __future__ import annotations

from starlette.applications import Starlette

from server.app import create_app
from server.logs import configure
from server.settings import Settings


def app_from_env() -> Starlette:
    settings = Settings.from_env()
    configure(settings.log_level)
    return create_app(settings)
