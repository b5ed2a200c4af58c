"""The routes the four services register, once per session."""

from __future__ import annotations

import pytest
from docs_support import service_routes


@pytest.fixture(scope="session")
def routes_by_service() -> dict[str, set[tuple[str, str]]]:
    return service_routes()
