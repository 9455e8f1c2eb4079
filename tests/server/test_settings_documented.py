"""The settings table in docs/settings.md names exactly the variables the server reads.

The variables read are found by asking: `Settings.from_env` is given an environment that
records every name it looks up. The table's variables are the first column of its rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from server.config.settings import Settings

SETTINGS_DOC = Path(__file__).resolve().parents[2] / "docs" / "settings.md"
TABLE_ROW = re.compile(r"^\| `([A-Z][A-Z0-9_]*)` \|", re.MULTILINE)


class Recording(Mapping[str, str]):
    """An empty environment that remembers every variable asked of it."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        raise KeyError(name)

    def get(self, name: str, default: object = None) -> object:  # type: ignore[override]
        self.asked.add(name)
        return default

    def __contains__(self, name: object) -> bool:
        if isinstance(name, str):
            self.asked.add(name)
        return False

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def variables_read() -> set[str]:
    env = Recording()
    Settings.from_env(env)
    return env.asked


def variables_documented() -> set[str]:
    return set(TABLE_ROW.findall(SETTINGS_DOC.read_text()))


def test_the_settings_read_are_found() -> None:
    read = variables_read()
    assert {"CATALOG_DATABASE_URL", "CATALOG_MAX_FIRST", "OTEL_EXPORTER_OTLP_ENDPOINT"} <= read


def test_every_setting_read_is_documented_and_nothing_else() -> None:
    read, documented = variables_read(), variables_documented()
    undocumented = sorted(read - documented)
    unread = sorted(documented - read)
    assert not undocumented and not unread, (
        f"read but missing from the table in docs/settings.md: {undocumented}; "
        f"in the table but never read by Settings.from_env: {unread}"
    )
