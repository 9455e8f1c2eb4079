"""The process entry point uvicorn imports: settings from the environment, then the app."""

from __future__ import annotations

from starlette.applications import Starlette

from server.app import create_app
from server.settings import Settings


def app_from_env() -> Starlette:
    return create_app(Settings.from_env())
