"""A read statement's SQL and asyncpg arguments: compiled once, laid out once per shape.

The direct reads (db.connections.RequestConnection.read) run statements that db.readers
builds once. Each is compiled once for its dialect; what is left per call is SQLAlchemy's
public `SQLCompiler.construct_expanded_state`, which turns an expanding IN of N values
into N placeholders. It renders the statement's text again on every call, which measured
20 µs for one id, 104 µs for 20 and 449 µs for 100: more than asyncpg's own fetch of the
rows. The expanded text depends only on how many values each list holds, so it is made
once per statement and list lengths (its `Layout`), and each call only puts the values in
their positions.

A layout is checked against the expansion it was made from: it is kept only when it
gives exactly SQLAlchemy's arguments for those parameters. A statement it cannot lay out
(a parameter rendered into the text, a list of tuples) is expanded by SQLAlchemy on
every call, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.engine import Dialect

# Per position: the parameter's name, its index in a list (None: the value itself), and
# the bind processor of its type (None: the value as it is).
Position = tuple[str, int | None, Callable[[Any], Any] | None]


@dataclass(frozen=True, slots=True)
class Layout:
    """The expanded SQL of a statement for one length of each of its lists, and where
    each of asyncpg's positional arguments comes from."""

    statement: str
    positions: tuple[Position, ...]

    def arguments(self, parameters: Mapping[str, Any]) -> list[Any]:
        values: list[Any] = []
        for name, index, process in self.positions:
            value = parameters[name] if index is None else parameters[name][index]
            values.append(value if process is None else process(value))
        return values


def expand(
    statement: Executable, dialect: Dialect, parameters: Mapping[str, Any] | None
) -> tuple[str, list[Any]]:
    """The SQL text and positional arguments to run `statement` with on asyncpg."""
    compiled = _compiled(statement, dialect)
    given = parameters or {}
    expanding = _expanding(compiled)
    if expanding is None:  # some parameter is rendered into the text: expand every call
        return _expanded(compiled, given)
    lengths = tuple(len(given[name]) for name in expanding)
    layout = _layout(compiled, lengths, given)
    if layout is None:
        return _expanded(compiled, given)
    return layout.statement, layout.arguments(given)


@lru_cache(maxsize=1024)
def _compiled(statement: Executable, dialect: Dialect) -> Any:
    """A read statement compiled once for its dialect (statements are built once too)."""
    return statement.compile(dialect=dialect)  # type: ignore[attr-defined]


@lru_cache(maxsize=1024)
def _expanding(compiled: Any) -> tuple[str, ...] | None:
    """The names of the statement's expanding lists; None when a parameter is rendered
    into the text (its value, not only its length, would shape the SQL)."""
    if compiled.literal_execute_params:
        return None
    late = compiled.post_compile_params
    if any(not parameter.expanding for parameter in late):
        return None
    return tuple(sorted(parameter.key for parameter in late))


_layouts: dict[tuple[Any, tuple[int, ...]], Layout | None] = {}
_MAX_LAYOUTS = 4096  # statements and list lengths seen; past it, new shapes are not kept


def _layout(
    compiled: Any, lengths: tuple[int, ...], parameters: Mapping[str, Any]
) -> Layout | None:
    key = (compiled, lengths)
    try:
        return _layouts[key]
    except KeyError:
        pass
    layout = _laid_out(compiled, parameters)
    if len(_layouts) < _MAX_LAYOUTS:
        _layouts[key] = layout
    return layout


def _laid_out(compiled: Any, parameters: Mapping[str, Any]) -> Layout | None:
    """The layout of SQLAlchemy's expansion for these parameters, if it reproduces it."""
    expanded = compiled.construct_expanded_state(parameters)
    source: dict[str, tuple[str, int | None]] = {}
    for name, names in (expanded.parameter_expansion or {}).items():
        for index, expanded_name in enumerate(names):
            source[expanded_name] = (name, index)
    processors = expanded.processors
    positions = tuple(
        (*source.get(name, (name, None)), processors.get(name)) for name in expanded.positiontup
    )
    layout = Layout(expanded.statement, positions)
    try:
        reproduced = layout.arguments(parameters) == _arguments(expanded)
    except Exception:  # a value SQLAlchemy found elsewhere (a bound default, say)
        reproduced = False
    return layout if reproduced else None


def _expanded(compiled: Any, parameters: Mapping[str, Any]) -> tuple[str, list[Any]]:
    expanded = compiled.construct_expanded_state(parameters)
    return expanded.statement, _arguments(expanded)


def _arguments(expanded: Any) -> list[Any]:
    """The expanded parameters in their positions, through their types' bind processors."""
    values, processors = expanded.parameters, expanded.processors
    return [
        processors[name](values[name]) if name in processors else values[name]
        for name in expanded.positiontup
    ]
