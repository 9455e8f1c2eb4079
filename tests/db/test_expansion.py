"""db.expansion: a statement's expansion laid out once per list lengths gives, call after
call, exactly the SQL and arguments SQLAlchemy's own expansion gives."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Executable, Integer, bindparam, column, select, table, tuple_
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.sql.compiler import SQLCompiler

from db import orders, readers
from db.expansion import expand
from db.paging import Slice, slice_params, slice_shape

DIALECT = PGDialect_asyncpg()
things = table("things", column("a"), column("b"), column("c"))


def sqlalchemy_expansion(statement: Executable, parameters: dict[str, Any]) -> tuple[str, list]:
    expanded = statement.compile(dialect=DIALECT).construct_expanded_state(parameters)  # type: ignore[attr-defined]
    processors = expanded.processors
    return expanded.statement, [
        processors[name](expanded.parameters[name])
        if name in processors
        else expanded.parameters[name]
        for name in expanded.positiontup
    ]


def tags_page(window: Slice) -> Executable:
    shape, links = slice_shape(window), readers._link_shape(None)
    return readers._tags_page(orders.TAG_LINKS_DEFAULT, shape, links, True)


@pytest.mark.parametrize("count", [0, 1, 2, 7])
def test_a_paged_read_expands_as_sqlalchemy_does_for_every_list_it_is_given(count: int) -> None:
    window = Slice(20)
    statement = tags_page(window)
    for first in (1, 100, 5_000):  # the same length, other values: the layout's second use
        parameters = {"ids": list(range(first, first + count)), **slice_params(window)}
        assert expand(statement, DIALECT, parameters) == sqlalchemy_expansion(statement, parameters)


def test_a_laid_out_statement_is_not_expanded_again_for_lists_of_the_same_length(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    statement = select(things.c.a).where(things.c.b.in_(bindparam("keys", expanding=True)))
    expansions: list[int] = []
    original = SQLCompiler.construct_expanded_state

    def counted(self: SQLCompiler, *args: Any, **kwargs: Any) -> Any:
        expansions.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "construct_expanded_state", counted)
    answers = [expand(statement, DIALECT, {"keys": [n, n + 1, n + 2]}) for n in range(5)]

    assert len(expansions) == 1
    assert [arguments for _sql, arguments in answers] == [[n, n + 1, n + 2] for n in range(5)]
    expand(statement, DIALECT, {"keys": [1, 2]})  # another length: laid out afresh
    assert len(expansions) == 2


def test_a_parameter_rendered_into_the_text_is_expanded_on_every_call() -> None:
    statement = (
        select(things.c.a)
        .where(things.c.b.in_(bindparam("keys", expanding=True)))
        .limit(bindparam("size", type_=Integer, literal_execute=True))
    )
    for size in (3, 4):
        parameters = {"keys": [1, 2], "size": size}
        sql, arguments = expand(statement, DIALECT, parameters)
        assert (sql, arguments) == sqlalchemy_expansion(statement, parameters)
        assert f"LIMIT {size}" in sql


def test_a_list_of_tuples_is_expanded_as_sqlalchemy_does() -> None:
    statement = select(things.c.c).where(
        tuple_(things.c.a, things.c.b).in_(bindparam("pairs", expanding=True))
    )
    for pairs in ([(1, 2), (3, 4)], [(5, 6), (7, 8)]):
        parameters = {"pairs": pairs}
        assert expand(statement, DIALECT, parameters) == sqlalchemy_expansion(statement, parameters)
