#!/usr/bin/env python3
"""Re-vendor GraphiQL into server/playground/graphiql/vendor/ from its npm packages.

    python3 scripts/vendor_graphiql.py

Installs the pinned packages below with npm into a temporary directory (no install
scripts run), copies their browser builds (UMD: no bundler needed), their licences and the
licences of every package in their dependency tree (the builds bundle many of them), and
writes manifest.json: each package's version and npm integrity, and each file's sha256.
tests/api/test_graphiql.py checks that the files on disk and the files served match it.

To upgrade, change the versions here, run the script, check the page in a browser (and
run tests/browser), and commit the result with the manifest.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGES = {
    "react": "18.3.1",
    "react-dom": "18.3.1",
    "graphiql": "3.9.0",
    "@graphiql/plugin-explorer": "3.2.6",
}

# (package, path inside the package, name under vendor/)
FILES = [
    ("react", "umd/react.production.min.js", "react.production.min.js"),
    ("react-dom", "umd/react-dom.production.min.js", "react-dom.production.min.js"),
    ("graphiql", "graphiql.min.js", "graphiql.min.js"),
    ("graphiql", "graphiql.min.css", "graphiql.min.css"),
    ("@graphiql/plugin-explorer", "dist/index.umd.js", "plugin-explorer.umd.js"),
    ("@graphiql/plugin-explorer", "dist/style.css", "plugin-explorer.css"),
]

# @graphiql/plugin-explorer ships no licence file; it is MIT, from the graphiql repository,
# whose licence graphiql ships.
LICENCE_FROM = {"@graphiql/plugin-explorer": "graphiql"}

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "server" / "playground" / "graphiql" / "vendor"


def main() -> int:
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp)
        (work / "package.json").write_text('{"private": true}\n')
        specs = [f"{name}@{version}" for name, version in PACKAGES.items()]
        subprocess.run(
            ["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund", *specs],
            cwd=work,
            check=True,
        )
        modules = work / "node_modules"
        lock = json.loads((work / "package-lock.json").read_text())["packages"]
        if VENDOR.exists():
            shutil.rmtree(VENDOR)
        (VENDOR / "licenses").mkdir(parents=True)

        manifest: dict[str, dict[str, dict[str, str]]] = {"packages": {}, "files": {}}
        for name, version in PACKAGES.items():
            installed = json.loads((modules / name / "package.json").read_text())["version"]
            if installed != version:
                raise SystemExit(f"npm installed {name}@{installed}, not {version}")
            manifest["packages"][name] = {
                "version": version,
                "integrity": lock[f"node_modules/{name}"]["integrity"],
                "license": _licence_name(modules / name),
            }
            source = modules / LICENCE_FROM.get(name, name)
            licence = _licence_file(source)
            if licence is None:
                raise SystemExit(f"{name} ships no licence file")
            shutil.copyfile(licence, VENDOR / "licenses" / f"{_flat(name)}.txt")

        for package, path, served in FILES:
            data = (modules / package / path).read_bytes()
            (VENDOR / served).write_bytes(data)
            manifest["files"][served] = {
                "package": package,
                "path": path,
                "sha256": hashlib.sha256(data).hexdigest(),
            }

        (VENDOR / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        (VENDOR / "licenses" / "THIRD_PARTY.txt").write_text(_third_party(modules, lock))
    print(f"vendored {len(FILES)} files from {len(PACKAGES)} packages", file=sys.stderr)
    return 0


def _flat(name: str) -> str:
    return name.lstrip("@").replace("/", "-")


def _licence_name(package: Path) -> str:
    meta = json.loads((package / "package.json").read_text())
    licence = meta.get("license", "")
    return licence if isinstance(licence, str) else str(licence.get("type", ""))


def _licence_file(package: Path) -> Path | None:
    for pattern in ("LICENSE*", "LICENCE*", "license*", "License*"):
        for found in sorted(package.glob(pattern)):
            if found.is_file():
                return found
    return None


def _third_party(modules: Path, lock: dict[str, dict[str, object]]) -> str:
    """Every package npm installed beside the vendored ones, with its licence text: the
    browser builds bundle code from many of them."""
    parts = [
        "Licences of the packages in the dependency tree of the vendored GraphiQL build\n"
        "(its bundles contain code from many of them), as npm installed them.\n"
    ]
    for key in sorted(lock):
        if (
            not key.startswith("node_modules/")
            or "/@types/" in key
            or key.count("node_modules/") > 1
        ):
            continue
        name = key.removeprefix("node_modules/")
        if name in PACKAGES:
            continue
        package = modules / name
        licence = _licence_file(package)
        text = licence.read_text(errors="replace").strip() if licence else "(no licence file)"
        version = lock[key].get("version", "?")
        parts.append(f"\n{'=' * 78}\n{name}@{version} ({_licence_name(package)})\n\n{text}\n")
    return "".join(parts)


if __name__ == "__main__":
    sys.exit(main())
