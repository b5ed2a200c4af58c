from __future__ import annotations

from dataclasses import dataclass, fields, replace
from enum import StrEnum


class TicketStatus(StrEnum):
    PENDING = "pending"
    SCANNED = "scanned"
    CONFIRMED = "confirmed"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    BINDING_REQUIRED = "binding_required"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


S = TicketStatus
TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    S.PENDING: frozenset({S.SCANNED, S.CANCELLED, S.EXPIRED}),
    # failed: a WeChat call the confirm needed was refused (the phone-number code exchange):
    # the login ends with that reason, before the account service hears of it.
    S.SCANNED: frozenset({S.CONFIRMED, S.FAILED, S.CANCELLED, S.EXPIRED}),
    S.CONFIRMED: frozenset({S.SUCCEEDED, S.FAILED, S.BINDING_REQUIRED}),
    # The person linked or created an account on our binding page (same browser, same ticket).
    S.BINDING_REQUIRED: frozenset({S.SUCCEEDED}),
}
# Final for the waiting login page: binding_required goes on on the binding page (its own
# page, not the socket), which may still move it to succeeded.
TERMINAL = frozenset({S.SUCCEEDED, S.FAILED, S.BINDING_REQUIRED, S.CANCELLED, S.EXPIRED})
# States a ticket leaves by expiring when its lifetime ends.
EXPIRABLE = frozenset({S.PENDING, S.SCANNED})


@dataclass(frozen=True)
class Ticket:
    id: str
    status: TicketStatus
    version: int
    connection_id: str
    client_id: str
    redirect_uri: str
    state: str
    code_challenge: str
    nonce: str
    binding_hash: str
    created_at: float
    expires_at: float
    trace_id: str
    pc_ip: str = ""
    pc_user_agent: str = ""
    # How the result reaches the site: "query" (a redirect to redirect_uri) or "web_message"
    # (postMessage to the opener, at the exact origin of redirect_uri).
    response_mode: str = "query"
    # The scopes the site asked for (space-separated); the code and its tokens carry them.
    scope: str = "openid profile phone"
    # OIDC prompt values the site sent (space-separated; "none" never makes a ticket).
    prompt: str = ""
    # OIDC max_age in seconds, -1 when not asked: every login here is fresh (auth_time is
    # in the ID token), so any value is met.
    max_age: int = -1
    # The app's registered web origins (App.web_origins) when the ticket was issued,
    # space-separated: pages there may open its WebSocket besides the public origin.
    web_origins: str = ""
    scanner_openid: str = ""
    scanner_unionid: str = ""
    scanner_nickname: str = ""
    scanner_avatar: str = ""
    # The profile of the account a returning scanner logs in to, as the account service
    # knows it (set while `scanned`; not what the phone claims, unlike the two above).
    account_nickname: str = ""
    account_avatar: str = ""
    scanned_at: float = 0.0
    # The WeChat launch scene the phone reported with its scan (1011: camera on a QR code),
    # -1 when it sent none; kept for the audit trail.
    launch_scene: int = -1
    phone: str = ""
    confirmed_at: float = 0.0
    user_id: str = ""
    redirect_url: str = ""
    reason: str = ""
    finished_at: float = 0.0

    def status_at(self, now: float) -> TicketStatus:
        """What the ticket is at `now`: a pending or scanned ticket past its lifetime is expired
        even before anyone has recorded the transition."""
        if self.status in EXPIRABLE and now >= self.expires_at:
            return S.EXPIRED
        return self.status

    def to_redis(self) -> dict[str, str]:
        # Not dataclasses.asdict: its deep copy was a few per cent of a ticket's CPU.
        return {name: str(getattr(self, name)) for name in _FIELD_NAMES}

    @classmethod
    def from_redis(cls, raw: dict[str, str]) -> Ticket:
        values: dict[str, object] = {}
        for f in fields(cls):
            if f.name not in raw:
                continue
            v = raw[f.name]
            if f.type == "int":
                values[f.name] = int(v)
            elif f.type == "float":
                values[f.name] = float(v)
            elif f.name == "status":
                values[f.name] = TicketStatus(v)
            else:
                values[f.name] = v
        return cls(**values)  # type: ignore[arg-type]  # types converted per field above

    def with_changes(self, **changes: object) -> Ticket:
        return replace(self, **changes)  # type: ignore[arg-type]  # dataclasses.replace is untyped


_FIELD_NAMES = tuple(f.name for f in fields(Ticket))
