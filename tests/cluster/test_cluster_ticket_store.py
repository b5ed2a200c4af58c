"""The ticket store's whole contract (tests/shared/test_ticket_store.py) over the two highly
available Redis URLs, `redis+cluster://` and `redis+sentinel://`, as over one server."""

from __future__ import annotations

import pytest

from tests.shared import test_ticket_store as contract

pytestmark = [pytest.mark.real, pytest.mark.timeout(300)]

# The same test functions, run here with this folder's fixtures (conftest.py): `redis` is
# the cluster's Redis Cluster or its Sentinel-watched primary.
globals().update({name: f for name, f in vars(contract).items() if name.startswith("test_")})
