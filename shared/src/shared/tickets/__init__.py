"""The login ticket: one state machine, enforced atomically in Redis."""

from shared.tickets import lifecycle
from shared.tickets.errors import (
    IllegalTransition,
    NotScanner,
    TicketAlreadyScanned,
    TicketCancelled,
    TicketExpired,
    TicketNotFound,
)
from shared.tickets.model import TERMINAL, TRANSITIONS, Ticket, TicketStatus
from shared.tickets.store import TicketStore

__all__ = [
    "TERMINAL",
    "TRANSITIONS",
    "IllegalTransition",
    "NotScanner",
    "Ticket",
    "TicketAlreadyScanned",
    "TicketCancelled",
    "TicketExpired",
    "TicketNotFound",
    "TicketStatus",
    "TicketStore",
    "lifecycle",
]
