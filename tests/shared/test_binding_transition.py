"""binding_required -> succeeded: the binding page finishes a login, once, and only from
binding_required; the ordinary success still starts only from confirmed. On fakeredis and
real Redis."""

from __future__ import annotations

import pytest
from test_ticket_store import created

from shared.clock import FakeClock
from shared.tickets import (
    IllegalTransition,
    TicketCancelled,
    TicketStatus,
    TicketStore,
    lifecycle,
)

S = TicketStatus


async def test_a_ticket_waiting_for_binding_succeeds_once_from_the_binding_page(
    store: TicketStore, clock: FakeClock
) -> None:
    ticket = await created(store, clock, status=S.BINDING_REQUIRED, reason="no_account_bound")

    done = await lifecycle.succeed(
        store,
        ticket.id,
        user_id="u_1",
        created=False,
        redirect_url="https://rp.example/callback?code=c",
        after_binding=True,
    )

    assert (done.status, done.user_id, done.version) == (S.SUCCEEDED, "u_1", ticket.version + 1)
    with pytest.raises(IllegalTransition):
        await lifecycle.succeed(
            store, ticket.id, user_id="u_2", created=True, redirect_url="x", after_binding=True
        )
    assert (await store.require(ticket.id)).user_id == "u_1"


@pytest.mark.parametrize("start", [S.CONFIRMED, S.FAILED, S.CANCELLED, S.SUCCEEDED])
async def test_only_a_ticket_waiting_for_binding_is_finished_by_the_binding_page(
    store: TicketStore, clock: FakeClock, start: TicketStatus
) -> None:
    ticket = await created(store, clock, status=start)
    with pytest.raises((IllegalTransition, TicketCancelled)):
        await lifecycle.succeed(
            store, ticket.id, user_id="u_1", created=False, redirect_url="x", after_binding=True
        )
    assert (await store.require(ticket.id)).status == start


async def test_the_ordinary_success_does_not_skip_the_binding(
    store: TicketStore, clock: FakeClock
) -> None:
    ticket = await created(store, clock, status=S.BINDING_REQUIRED)
    with pytest.raises(IllegalTransition):
        await lifecycle.succeed(store, ticket.id, user_id="u_1", created=False, redirect_url="x")
    assert (await store.require(ticket.id)).status == S.BINDING_REQUIRED
