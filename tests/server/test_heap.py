"""The cycle collector's settings for a serving process (server/process/heap.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROBE = """
import gc, json
from server.process.main import app_from_env
app_from_env()
print(json.dumps({"threshold": gc.get_threshold(), "frozen": gc.get_freeze_count()}))
"""


def collector_after_start(tmp_path: Path, **env: str) -> dict[str, object]:
    """gc's thresholds and frozen objects in a fresh process that built the app."""
    database = tmp_path / "catalog.db"
    environment = {
        **os.environ,
        "CATALOG_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        **env,
    }
    completed = subprocess.run(
        [sys.executable, "-c", PROBE], env=environment, capture_output=True, text=True, check=True
    )
    answer: dict[str, object] = json.loads(completed.stdout.strip().splitlines()[-1])
    return answer


def test_a_serving_process_freezes_its_start_up_and_collects_young_objects_less_often(
    tmp_path: Path,
) -> None:
    collector = collector_after_start(tmp_path)
    assert collector["threshold"][0] == 50_000  # type: ignore[index]
    assert collector["frozen"] > 100_000  # type: ignore[operator]  # modules, schema, app


def test_a_threshold_of_0_leaves_the_collector_as_cpython_sets_it(tmp_path: Path) -> None:
    collector = collector_after_start(tmp_path, CATALOG_GC_YOUNG_THRESHOLD="0")
    assert collector["threshold"] == [700, 10, 10]
    assert collector["frozen"] == 0


def test_a_given_threshold_is_used(tmp_path: Path) -> None:
    collector = collector_after_start(tmp_path, CATALOG_GC_YOUNG_THRESHOLD="20000")
    assert collector["threshold"][0] == 20_000  # type: ignore[index]
