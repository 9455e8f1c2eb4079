"""The layout is the architecture: no import circle, small modules, a server/ read at a glance.

The import graph is read from the source with `ast`, never by importing it: every import a
module runs when it is loaded (at its top level, under `if TYPE_CHECKING:` included), and
none inside a function, which runs only when called.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ("schema", "resolvers", "db", "server", "bench", "scripts", "tests", "examples")
LIBRARY = ("schema", "resolvers", "db", "server")
MAX_LINES = 400
MAX_SERVER_ENTRIES = 12


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for folder in PROJECT
        for path in sorted((ROOT / folder).rglob("*.py"))
        if "node_modules" not in path.parts
    }


def loaded_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """The imports that run when the module is loaded: all but those inside a function."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from loaded_imports(node)


def imported_names(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The dotted names an import statement asks for, relative ones made absolute."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        anchor = package[: len(package) - node.level + 1]
        base = ".".join([*anchor, base] if base else anchor)
    # `from a import b` imports the module a.b when there is one, else a name from a.
    return [f"{base}.{alias.name}" for alias in node.names] + [base]


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        targets: set[str] = set()
        for node in loaded_imports(tree):
            names = imported_names(node, module, is_package)
            if isinstance(node, ast.ImportFrom):
                # The submodules named, and the module any other name comes from.
                *named, base = names
                submodules = [name for name in named if name in modules]
                targets.update(submodules)
                if len(submodules) < len(named) and base in modules:
                    targets.add(base)
            else:
                targets.update(name for name in names if name in modules)
        graph[module] = targets - {module}
    return graph


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle of imports (its modules in order, the first repeated last), or None."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(module: str) -> list[str] | None:
        path.append(module)
        on_path.add(module)
        for target in sorted(graph.get(module, ())):
            if target in on_path:
                return [*path[path.index(target) :], target]
            if target not in done:
                circle = visit(target)
                if circle:
                    return circle
        path.pop()
        on_path.discard(module)
        done.add(module)
        return None

    for module in sorted(graph):
        if module not in done:
            circle = visit(module)
            if circle:
                return circle
    return None


def test_the_graph_sees_imports_under_type_checking_and_skips_those_in_functions() -> None:
    graph = import_graph()

    assert "server.observability.metrics" in graph["server.observability.tracking"]
    assert "server.process.startup" not in graph["server.process.cli"]


def test_the_circle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}

    assert find_circle(graph) == ["a", "b", "c", "a"]


def test_no_import_circle_anywhere_in_the_project() -> None:
    circle = find_circle(import_graph())

    assert circle is None, " -> ".join(circle or ())


def test_no_import_circle_between_the_rooms_of_server() -> None:
    def room(module: str) -> str:
        return ".".join(module.split(".")[:2])

    rooms: dict[str, set[str]] = {}
    for module, targets in import_graph().items():
        if module.startswith("server."):
            rooms.setdefault(room(module), set()).update(
                room(target) for target in targets if target.startswith("server.")
            )
    circle = find_circle({name: targets - {name} for name, targets in rooms.items()})

    assert circle is None, " -> ".join(circle or ())


def test_no_module_of_schema_resolvers_db_or_server_is_over_400_lines() -> None:
    lines = {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for folder in LIBRARY
        for path in sorted((ROOT / folder).rglob("*.py"))
    }

    too_long = {path: count for path, count in lines.items() if count > MAX_LINES}
    assert too_long == {}


def test_server_shows_at_most_12_entries_at_its_top_level() -> None:
    entries = sorted(
        entry.name
        for entry in (ROOT / "server").iterdir()
        if entry.name not in {"__init__.py", "__pycache__"}
    )

    assert len(entries) <= MAX_SERVER_ENTRIES, entries


def test_every_room_of_server_says_what_it_is_for_and_holds_nothing_else() -> None:
    rooms = sorted(path.parent for path in (ROOT / "server").glob("*/__init__.py"))
    assert rooms

    for room in rooms:
        tree = ast.parse((room / "__init__.py").read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), f"{room.name}/__init__.py has no docstring"
        body = tree.body[1:]  # after the docstring, re-exports at most
        assert all(isinstance(node, ast.Import | ast.ImportFrom) for node in body), room.name


def test_bench_imports_nothing_from_tests() -> None:
    from_tests = []
    for path in sorted((ROOT / "bench").rglob("*.py")):
        module = module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = imported_names(node, module, path.name == "__init__.py")
                if any(name == "tests" or name.startswith("tests.") for name in names):
                    from_tests.append(f"{path.relative_to(ROOT)}:{node.lineno}")

    assert from_tests == []
