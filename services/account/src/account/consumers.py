"""Consumes scanned tickets (a returning user's profile for the waiting PC to show) and
confirmed ones (resolve the account, issue the code, publish the result)."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

from account.audit import ENDED_QUEUE
from account.codes import CodeGrant
from account.context import Account
from account.users import Outcome, Resolution, WeChatIdentity
from shared import logs
from shared.events import Event, TicketConfirmed, TicketScanned
from shared.profile import clean_nickname, showable_avatar
from shared.tickets import (
    IllegalTransition,
    TicketExpired,
    TicketNotFound,
    TicketStatus,
    lifecycle,
)
from shared.tickets.model import Ticket

log = logs.get(__name__)
QUEUE = "account.tickets-confirmed"
SCANNED_QUEUE = "account.tickets-scanned"
# Every durable queue this service consumes (tests and the benchmark delete them after).
QUEUES = (QUEUE, SCANNED_QUEUE, ENDED_QUEUE)


def with_query(uri: str, params: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


async def on_ticket_scanned(acct: Account, event: Event) -> None:
    """A returning user scanned: put their account's name and picture on the ticket, so the
    PC shows whose account it is about to log in to before anyone confirms."""
    payload = event.payload
    assert isinstance(payload, TicketScanned)
    with logs.bound(trace_id=event.trace_id, ticket_id=event.ticket_id, event_id=event.id):
        ticket = await acct.tickets.get(event.ticket_id)
        if ticket is None or ticket.status != TicketStatus.SCANNED:
            log.info("scanned_event_skipped", status=ticket.status.value if ticket else "missing")
            return
        if ticket.account_nickname or ticket.account_avatar:
            return  # delivered twice: already shown (the change and its event were one step)
        user = await acct.users.account_of(
            payload.connection_id, payload.openid, ticket.scanner_unionid or None
        )
        if user is None:
            log.info("scanner_is_new")
            return
        # Checked again on the way out: a record may predate the rules or be edited by hand.
        nickname = clean_nickname(user.get("nickname")) or ""
        avatar = showable_avatar(user.get("avatar_url")) or ""
        if not nickname and not avatar:
            log.info("scanner_has_no_profile")
            return
        try:
            await lifecycle.identify_scanner(
                acct.tickets, ticket.id, user_id=user["_id"], nickname=nickname, avatar=avatar
            )
        except (IllegalTransition, TicketExpired, TicketNotFound):
            log.info("scanned_ticket_moved_on")  # confirmed, cancelled or expired meanwhile
            return
        log.info("scanner_identified", user_id=user["_id"])


async def on_ticket_confirmed(acct: Account, event: Event) -> None:
    payload = event.payload
    assert isinstance(payload, TicketConfirmed)
    with logs.bound(trace_id=event.trace_id, ticket_id=event.ticket_id, event_id=event.id):
        ticket = await acct.tickets.get(event.ticket_id)
        if ticket is None:
            log.info("confirmed_event_skipped", status="missing")
            return
        if ticket.status != TicketStatus.CONFIRMED:
            # Delivered again: the login has ended, and its outcome is told again (whoever
            # waits on it may have missed it); the move itself is never made twice.
            told = await lifecycle.announce_outcome(acct.tickets, ticket)
            log.info("confirmed_event_redelivered", status=ticket.status.value, told=told)
            await acct.audit.login_ended(ticket)  # in case the first delivery could not
            return
        conn = await acct.registry.connection(ticket.connection_id)
        now = acct.clock.now()
        who = WeChatIdentity(
            openid=payload.openid,
            unionid=payload.unionid,
            phone=ticket.phone or None,
            nickname=ticket.scanner_nickname or None,
            avatar_url=ticket.scanner_avatar or None,
        )
        result = await acct.users.resolve(conn, who, now)
        if result.unionid_conflict:
            await _record_unionid_conflict(acct, ticket, result)
        try:
            if result.outcome == Outcome.SUCCEEDED:
                await succeed(acct, ticket, result.user_id, result.created, now)
            elif result.outcome == Outcome.BINDING_REQUIRED:
                await lifecycle.require_binding(acct.tickets, ticket.id, reason=result.reason)
            else:
                await lifecycle.fail(acct.tickets, ticket.id, reason=result.reason)
        except IllegalTransition:
            log.info("ticket_already_finished")  # another delivery finished it meanwhile
            return
        log.info("login_resolved", outcome=result.outcome.value, created=result.created)
        # Written once the outcome is on its way, not before: the browser does not wait on
        # it. A delivery that dies in between is redelivered, and the redelivery writes it
        # from the finished ticket (login_ended); a second write of it is no second record.
        await acct.audit.record(
            outcome=result.outcome.value,
            reason=result.reason,
            ticket=ticket,
            user_id=result.user_id,
            new_account=result.created,
        )


async def _record_unionid_conflict(acct: Account, ticket: Ticket, result: Resolution) -> None:
    """The unionid this login brought belongs to another account: the accounts were kept
    apart (nothing merged), and an operator reads why in the audit trail."""
    log.warning("unionid_conflict_kept_apart", user_id=result.user_id)
    await acct.audit.record(
        kind="unionid_conflict",
        outcome=result.outcome.value,
        reason="unionid_belongs_to_another_account",
        ticket=ticket,
        user_id=result.user_id,
    )


async def succeed(
    acct: Account,
    ticket: Ticket,
    user_id: str,
    created: bool,
    now: float,
    *,
    after_binding: bool = False,
) -> Ticket:
    """Issue the authorization code for `user_id` and move the ticket to succeeded with the
    site's redirect (from confirmed; from binding_required for the binding page)."""
    code, store_code = acct.codes.prepare(
        CodeGrant(
            client_id=ticket.client_id,
            redirect_uri=ticket.redirect_uri,
            code_challenge=ticket.code_challenge,
            user_id=user_id,
            nonce=ticket.nonce,
            connection_id=ticket.connection_id,
            ticket_id=ticket.id,
            auth_time=int(now),
            trace_id=ticket.trace_id,
            scope=ticket.scope,
        )
    )
    params = {"code": code}
    if ticket.state:
        params["state"] = ticket.state
    params["iss"] = acct.settings.issuer  # RFC 9207: the site can tell which issuer answered
    # The code is stored in the same round trip as the transition; if the transition is
    # refused, the stored code is one nobody was told and it expires unused.
    return await lifecycle.succeed(
        acct.tickets,
        ticket.id,
        user_id=user_id,
        created=created,
        redirect_url=with_query(ticket.redirect_uri, params),
        also=store_code,
        after_binding=after_binding,
    )
