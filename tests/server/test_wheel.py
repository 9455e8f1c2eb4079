"""The wheel (what the Docker image installs) carries GraphiQL's page and vendored files."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from server.playground.page import OWN_FILES, manifest

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_holds_the_graphiql_page_and_every_vendored_file(tmp_path: Path) -> None:
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index"]
    subprocess.run(
        [*pip_wheel, "--no-build-isolation", "--wheel-dir", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("catalog-*.whl")

    names = set(zipfile.ZipFile(wheel).namelist())

    expected = {"server/playground/page.py", "server/playground/graphiql/index.html"}
    expected |= {f"server/playground/graphiql/{name}" for name in OWN_FILES}
    expected |= {f"server/playground/graphiql/vendor/{name}" for name in manifest()["files"]}
    expected |= {"server/playground/graphiql/vendor/manifest.json"}
    expected |= {"server/playground/graphiql/vendor/licenses/THIRD_PARTY.txt"}
    assert expected <= names, sorted(expected - names)
