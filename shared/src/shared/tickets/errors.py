from __future__ import annotations

from shared.errors import AppError


class TicketNotFound(AppError):
    status = 404
    code = "ticket_not_found"
    message = "No such login ticket, or it has been deleted after expiring."


class TicketExpired(AppError):
    status = 410
    code = "ticket_expired"
    message = "This login QR code has expired. Refresh the page on the computer."


class TicketAlreadyScanned(AppError):
    status = 409
    code = "ticket_already_scanned"
    message = "This login QR code has already been scanned by someone."


class TicketCancelled(AppError):
    status = 409
    code = "ticket_cancelled"
    message = "This login was cancelled."


class IllegalTransition(AppError):
    status = 409
    code = "illegal_transition"
    message = "The login ticket is not in a state that allows this."


class NotScanner(AppError):
    status = 403
    code = "not_scanner"
    message = "Only the WeChat user who scanned this code may confirm or cancel it."
