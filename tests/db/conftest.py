"""Fixtures of the data-layer tests: the services under test, factories and the stored view."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.associations import Associations
from db.catalog import Catalog
from tests.db.rows import Factory, Stored


@pytest.fixture
def make(sessions: async_sessionmaker[AsyncSession]) -> Factory:
    return Factory(sessions)


@pytest.fixture
def stored(sessions: async_sessionmaker[AsyncSession]) -> Stored:
    return Stored(sessions)


@pytest.fixture
def associations(session: AsyncSession) -> Associations:
    return Associations(session)


@pytest.fixture
def catalog(session: AsyncSession) -> Catalog:
    return Catalog(session)
