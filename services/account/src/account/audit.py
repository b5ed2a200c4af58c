"""The audit trail: one record per login attempt, in the account database's `audit`
collection, kept for ML_AUDIT_RETENTION_DAYS (a TTL index) and queried by the admin API.

A record says who tried to log in where, from which PC and how it ended, and nothing that
would let anyone replay it: no tokens, no codes, no session keys, the phone number masked.
Erasing a user keeps their records (the counts stay true) but removes what identifies them.

Kinds (the `kind` field):
- `login`: how a login attempt ended. The account service's decision on a confirmed ticket
  (succeeded, failed, binding_required), a scanned ticket cancelled or expired before
  anyone confirmed it, or one failed at its confirm because WeChat refused a call for it
  (reason `wechat_refused:<errcode>`). One per ticket.
- `binding`: how the binding page continued a `binding_required` login (succeeded or
  failed). One per ticket.
- `unionid_conflict`: the scanner's unionid already belongs to another account; the existing
  binding was kept and nothing merged (outcome `succeeded`, reason `unionid_conflict`). One
  per ticket.
- `sign_in`: one password sign-in on the binding page (succeeded or failed); many per ticket.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, OperationFailure

from account.claims import e164
from shared import ids, logs
from shared.clock import Clock
from shared.events import Event, EventType
from shared.tickets import TicketStore
from shared.tickets.model import Ticket, TicketStatus
from shared.useragent import describe

log = logs.get(__name__)
COLLECTION = "audit"
# Cancelled and expired tickets, and logins failed before their confirm, for their records
# (the account service's decisions are recorded where they are made, in account.consumers).
ENDED_QUEUE = "account.audit-tickets-ended"
TTL_INDEX = "audit_retention"
MAX_USER_AGENT = 512


class AuditKind(StrEnum):
    LOGIN = "login"
    BINDING = "binding"
    UNIONID_CONFLICT = "unionid_conflict"
    SIGN_IN = "sign_in"


# Kinds that happen at most once per ticket: their record is keyed by it, so a redelivered
# event writes nothing twice.
ONCE_PER_TICKET = frozenset({AuditKind.LOGIN, AuditKind.BINDING, AuditKind.UNIONID_CONFLICT})


class AuditOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    BINDING_REQUIRED = "binding_required"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


_ENDINGS = {
    TicketStatus.SUCCEEDED: AuditOutcome.SUCCEEDED,
    TicketStatus.FAILED: AuditOutcome.FAILED,
    TicketStatus.BINDING_REQUIRED: AuditOutcome.BINDING_REQUIRED,
    TicketStatus.CANCELLED: AuditOutcome.CANCELLED,
    TicketStatus.EXPIRED: AuditOutcome.EXPIRED,
}
# The fields erasure removes: together they could name the person.
IDENTIFYING = ("user_id", "openid", "phone", "pc_ip", "pc_user_agent", "browser")


def mask_phone(phone: str) -> str:
    """The number with the four digits before its last four hidden, as Chinese sites show
    one (+86138****1111, 138****1111); a short number keeps only its last two digits."""
    digits = [i for i, ch in enumerate(phone) if ch.isdigit()]
    hidden = set(digits[-8:-4]) if len(digits) >= 8 else set(digits[:-2])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(phone))


def _millis(at: float) -> datetime:
    """A UTC time at MongoDB's precision (milliseconds), so a cursor made from a record
    compares equal to it when read back."""
    return datetime.fromtimestamp(round(at * 1000) / 1000, UTC)


@dataclass(frozen=True)
class AuditFilter:
    user_id: str | None = None
    connection_id: str | None = None
    client_id: str | None = None
    outcome: AuditOutcome | None = None
    kind: AuditKind | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive

    def query(self) -> dict[str, Any]:
        q: dict[str, Any] = {
            name: str(value)
            for name, value in (
                ("user_id", self.user_id),
                ("connection_id", self.connection_id),
                ("client_id", self.client_id),
                ("outcome", self.outcome),
                ("kind", self.kind),
            )
            if value is not None
        }
        at: dict[str, datetime] = {}
        if self.since is not None:
            at["$gte"] = self.since
        if self.until is not None:
            at["$lt"] = self.until
        if at:
            q["at"] = at
        return q


class BadCursor(ValueError):
    pass


def encode_cursor(record: dict[str, Any]) -> str:
    at: datetime = record["at"]
    millis = round(at.replace(tzinfo=at.tzinfo or UTC).timestamp() * 1000)
    raw = json.dumps([millis, record["_id"]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (time, id) of the last record of the previous page. Raises BadCursor."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        millis, last_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise BadCursor("cursor is not one this API gave") from exc
    if not isinstance(millis, int) or not isinstance(last_id, str):
        raise BadCursor("cursor is not one this API gave")
    try:
        return datetime.fromtimestamp(millis / 1000, UTC), last_id
    except (OverflowError, OSError, ValueError) as exc:
        raise BadCursor("cursor is not one this API gave") from exc


class AuditLog:
    def __init__(self, db: AsyncDatabase[dict[str, Any]], clock: Clock, retention_days: int):
        self.records: AsyncCollection[dict[str, Any]] = db[COLLECTION]
        self.clock = clock
        self.retention = timedelta(days=retention_days)

    async def ensure_indexes(self) -> None:
        seconds = int(self.retention.total_seconds())
        existing = (await self.records.index_information()).get(TTL_INDEX)
        if existing is not None and existing.get("expireAfterSeconds") != seconds:
            # The retention changed: the index is made again with the new period (MongoDB's
            # collMod could change it in place; dropping works on every wire server). Another
            # replica starting at the same time may have dropped it first.
            with contextlib.suppress(OperationFailure):
                await self.records.drop_index(TTL_INDEX)
        await self.records.create_index("at", name=TTL_INDEX, expireAfterSeconds=seconds)
        # The admin API's filters, each newest first (the order pages are read in).
        for field in ("user_id", "connection_id", "outcome"):
            await self.records.create_index([(field, 1), ("at", DESCENDING), ("_id", DESCENDING)])
        await self.records.create_index([("at", DESCENDING), ("_id", DESCENDING)])

    async def record(
        self,
        *,
        outcome: AuditOutcome | str,
        reason: str = "",
        kind: AuditKind | str = AuditKind.LOGIN,
        ticket: Ticket | None = None,
        user_id: str = "",
        connection_id: str = "",
        client_id: str = "",
        openid: str = "",
        phone: str = "",
        pc_ip: str = "",
        pc_user_agent: str = "",
        launch_scene: int | None = None,
        new_account: bool = False,
        at: float | None = None,
    ) -> None:
        """Write one record. Values not given are taken from `ticket` when there is one (its
        connection, app, PC, scanner, phone, launch scene and user). A kind that happens once
        per ticket is written once, however often it is recorded."""
        kind = AuditKind(kind)
        outcome = AuditOutcome(outcome)
        t = ticket
        scene = launch_scene
        if scene is None and t is not None and t.launch_scene >= 0:
            scene = t.launch_scene
        phone = phone or (t.phone if t else "")
        agent = (pc_user_agent or (t.pc_user_agent if t else ""))[:MAX_USER_AGENT]
        doc: dict[str, Any] = {
            "_id": f"{kind.value}:{t.id}"
            if t is not None and kind in ONCE_PER_TICKET
            else f"{kind.value}:{ids.random_base62(22)}",
            "kind": kind.value,
            "at": _millis(self.clock.now() if at is None else at),
            "outcome": outcome.value,
            "reason": reason or None,
            "ticket_id": t.id if t else None,
            "trace_id": t.trace_id if t else None,
            "connection_id": connection_id or (t.connection_id if t else "") or None,
            "client_id": client_id or (t.client_id if t else "") or None,
            "user_id": user_id or (t.user_id if t else "") or None,
            "openid": openid or (t.scanner_openid if t else "") or None,
            "phone": mask_phone(e164(phone)) if phone else None,
            "pc_ip": pc_ip or (t.pc_ip if t else "") or None,
            "pc_user_agent": agent or None,
            "browser": describe(agent) if agent else None,
            "launch_scene": scene,
            "new_account": new_account,
        }
        try:
            await self.records.insert_one(doc)
        except DuplicateKeyError:
            return  # this ticket's record of this kind is written already (a redelivery)
        log.info("audit_recorded", kind=doc["kind"], outcome=doc["outcome"], reason=reason)

    async def login_ended(self, ticket: Ticket) -> None:
        """Record how a finished ticket's login ended, from the ticket alone (a redelivered
        event, or a scanned ticket cancelled or expired). A ticket nobody scanned was no
        attempt by anyone: nothing is written."""
        outcome = _ENDINGS.get(ticket.status)
        if outcome is None or not ticket.scanner_openid:
            return
        await self.record(
            outcome=outcome,
            reason=ticket.reason,
            ticket=ticket,
            at=ticket.finished_at or None,
        )

    async def forget_user(self, user_id: str, openids: Iterable[str] = ()) -> int:
        """Erasure: the user's records stay (what happened, when, where) but no longer say
        who: user, WeChat identity, phone, IP and browser are removed. `openids`, those of
        the identities erased with the user, also reach the records of attempts made before
        the account knew them (a refusal, binding required). Returns how many."""
        who: list[dict[str, Any]] = [{"user_id": user_id}]
        if wechat := sorted(set(openids)):
            who.append({"openid": {"$in": wechat}})
        result = await self.records.update_many(
            {"$or": who},
            {"$set": dict.fromkeys(IDENTIFYING) | {"erased_at": _millis(self.clock.now())}},
        )
        log.info("audit_user_forgotten", records=result.modified_count)
        return result.modified_count

    async def page(
        self, where: AuditFilter, limit: int, cursor: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Records newest first, at most `limit`, after `cursor`; and the cursor of the next
        page (None on the last). Raises BadCursor."""
        query = where.query()
        if cursor:
            at, last_id = decode_cursor(cursor)
            after = {"$or": [{"at": {"$lt": at}}, {"at": at, "_id": {"$lt": last_id}}]}
            query = {"$and": [query, after]} if query else after
        found = (
            await self.records.find(query)
            .sort([("at", DESCENDING), ("_id", DESCENDING)])
            .limit(limit + 1)
            .to_list()
        )
        more = len(found) > limit
        found = found[:limit]
        return found, encode_cursor(found[-1]) if more else None


async def on_ticket_ended(audit: AuditLog, tickets: TicketStore, event: Event) -> None:
    """ticket.cancelled or ticket.expired: a record if someone had scanned it. login.failed:
    a record only for a login that failed before it was confirmed (scan-gateway ended it
    when WeChat refused a call for it); the account service records its own decisions."""
    with logs.bound(trace_id=event.trace_id, ticket_id=event.ticket_id, event_id=event.id):
        ticket = await tickets.get(event.ticket_id)
        if ticket is None:
            log.info("ended_ticket_gone")  # past its retention: nothing left to say who
            return
        if event.type == EventType.LOGIN_FAILED and ticket.confirmed_at:
            return
        await audit.login_ended(ticket)


def record_out(doc: dict[str, Any]) -> dict[str, Any]:
    """A record as the admin API shows it (times in RFC 3339, UTC)."""
    out = {k: v for k, v in doc.items() if k not in ("_id", "at", "erased_at")}
    out["id"] = doc["_id"]
    out["at"] = _rfc3339(doc["at"])
    out["erased_at"] = _rfc3339(doc["erased_at"]) if doc.get("erased_at") else None
    return out


def _rfc3339(at: datetime) -> str:
    at = at.replace(tzinfo=at.tzinfo or UTC).astimezone(UTC)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
