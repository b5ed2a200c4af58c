"""The grant store's contract (tests/account/test_grant_store.py) over `redis+cluster://` and
`redis+sentinel://`: a grant's keys share one hash tag, so its scripts run on one slot."""

from __future__ import annotations

import pytest

from tests.account import test_grant_store as contract

pytestmark = [pytest.mark.real, pytest.mark.timeout(300)]

# The same test functions, with this folder's `redis` and `keys` fixtures (conftest.py).
globals().update({name: f for name, f in vars(contract).items() if name.startswith("test_")})
