"""The operator's view of the audit trail: GET /admin/v1/audit, newest first, filtered and
read a page at a time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, field_validator

from account.admin import _admin
from account.audit import AuditFilter, AuditKind, AuditOutcome, BadCursor, record_out
from shared.errors import InvalidRequest
from shared.web import validate

routes = web.RouteTableDef()
MAX_LIMIT = 200


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: str | None = Field(default=None, min_length=1, max_length=64)
    connection_id: str | None = Field(default=None, min_length=1, max_length=64)
    client_id: str | None = Field(default=None, min_length=1, max_length=64)
    outcome: AuditOutcome | None = None
    kind: AuditKind | None = None
    # RFC 3339 times (a time without an offset is UTC): since is inclusive, until exclusive.
    since: datetime | None = None
    until: datetime | None = None
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(default=None, min_length=1, max_length=200)

    @field_validator("since", "until")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        if v is None:
            return None
        return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)


@routes.get("/admin/v1/audit")
async def list_audit(request: web.Request) -> web.Response:
    acct = await _admin(request)
    q = validate(AuditQuery, dict(request.query))
    where = AuditFilter(**q.model_dump(exclude={"limit", "cursor"}))
    try:
        found, next_cursor = await acct.audit.page(where, q.limit, q.cursor)
    except BadCursor as exc:
        raise InvalidRequest(
            f"cursor: {exc}", details=[{"field": "cursor", "problem": str(exc)}]
        ) from exc
    return web.json_response(
        {"records": [record_out(d) for d in found], "next_cursor": next_cursor}
    )


__all__: list[Literal["routes"]] = ["routes"]
