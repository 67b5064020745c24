"""Plugin tests do not get the core suite's autouse reset: every test starts and ends with a
fresh plugin registry."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from voxcore.testing import reset_plugins


@pytest.fixture(autouse=True)
def fresh_plugins() -> Iterator[None]:
    reset_plugins()
    yield
    reset_plugins()
