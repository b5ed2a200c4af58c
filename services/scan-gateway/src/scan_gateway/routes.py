"""POST /mp/v1/scan, /mp/v1/confirm, /mp/v1/cancel: what the mini program calls."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web
from prometheus_client import Counter
from pydantic import BaseModel, ConfigDict, Field

from scan_gateway.context import GATEWAY, Gateway
from scan_gateway.outcomes import outcome_of, wait_decided
from scan_gateway.places import Place
from scan_gateway.profile import AvatarUrl, Nickname
from scan_gateway.proximity import FarAwayConfirmationRequired, FarAwayRefused, Nearness, compare
from scan_gateway.sessions import ScanSession
from shared import ids, logs
from shared.errors import AppError
from shared.registry import Connection, FarAwayPolicy
from shared.tickets import (
    IllegalTransition,
    Ticket,
    TicketAlreadyScanned,
    TicketExpired,
    TicketStatus,
    TicketStore,
    lifecycle,
)
from shared.tickets.store import refusal
from shared.useragent import describe
from shared.web import client_ip, read_json
from shared.wechat.errors import (
    WeChatBusy,
    WeChatError,
    WeChatInvalidCode,
    WeChatRateLimited,
    WeChatUnavailable,
)
from shared.wxapps import mini_program

log = logs.get(__name__)
routes = web.RouteTableDef()

TICKET = Field(pattern=f"^{ids.TICKET_ID_PATTERN}$")
# The only launch scenes trusted: the phone's camera pointed at a QR code (1011) or a mini
# program code (1047), as the mini program's lib/scene.js has it. Any other way in (a
# forwarded or saved picture, a chat link, a scene WeChat adds later, none at all) may be
# an attacker's code (QRLJacking), so the phone must warn.
CAMERA_SCENES = frozenset({1011, 1047})
# Why the phone warns, for the scenes that say more than "not the camera".
SCENE_RISKS = {
    1012: "long_press_image",
    1048: "long_press_image",
    1013: "album_image",
    1049: "album_image",
}
UNKNOWN_SCENE = "unknown_scene"
# The risk reason for a camera scan from far away (other reasons say more about the scan).
FAR_AWAY = "far_away"
# Why a login was cancelled by the connection's far-away policy (the ticket's `reason`).
FAR_AWAY_REFUSED = "far_away_refused"
# Why a login failed at its confirm when WeChat refused a call for it (`:<errcode>` follows).
WECHAT_REFUSED = "wechat_refused"

SCANS_BY_PROXIMITY = Counter(
    "minilogin_scan_proximity_total",
    "Scans by how near the phone is to the PC, and whether the far-away policy refused them",
    ["proximity", "outcome"],
)


def scene_risk(scene: int | None) -> str | None:
    """Why a scan from this launch scene needs a warning; None for a camera scan."""
    if scene in CAMERA_SCENES:
        return None
    return SCENE_RISKS.get(scene or 0, UNKNOWN_SCENE)


def risk(scene: int | None, near: Nearness) -> dict[str, object]:
    """The warning the phone must show, and its main reason: the launch scene first, then a
    PC far away (so a mini program that knows only `risk` still warns about it)."""
    reason = scene_risk(scene) or (FAR_AWAY if near.far else None)
    return {"warning": reason is not None, "reason": reason}


class PhoneRequired(AppError):
    code = "phone_required"
    message = "This site needs your phone number to log in."


class ScanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ticket: str = TICKET
    code: str = Field(min_length=1, max_length=128)
    launch_scene: int | None = Field(default=None, ge=0, le=99999)
    nickname: Nickname = None
    avatar_url: AvatarUrl = None


class ConfirmRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ticket: str = TICKET
    session: str = Field(min_length=1, max_length=128)
    phone_code: str | None = Field(default=None, min_length=1, max_length=128)
    nickname: Nickname = None
    avatar_url: AvatarUrl = None
    # The user confirmed a second time that the far-away PC is theirs (policy confirm_twice).
    far_away_acknowledged: bool = False


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ticket: str = TICKET
    session: str = Field(min_length=1, max_length=128)


async def _cancel(
    gw: Gateway,
    ticket_id: str,
    *,
    scanner: str,
    reason: str = "",
    only_from: frozenset[TicketStatus] | None = None,
    **changes: object,
) -> Ticket:
    """Cancel the ticket (the phone said no, or the far-away policy did) and tell everyone."""
    ticket = await lifecycle.cancel(
        gw.tickets,
        ticket_id,
        scanner=scanner,
        reason=reason,
        only_from=only_from,
        changes=changes,
    )
    with logs.bound(trace_id=ticket.trace_id):
        log.info("ticket_cancelled", ticket_id=ticket.id, reason=reason or "phone")
    return ticket


def _nearness(gw: Gateway, pc_ip: str, phone_ip: str) -> tuple[Place, Place, Nearness]:
    """Where the PC and the phone are, and how near each other."""
    pc, phone = gw.places.place(pc_ip), gw.places.place(phone_ip)
    return pc, phone, compare(pc_ip, pc, phone_ip, phone)


async def _refuse_far_away(
    gw: Gateway,
    ticket_id: str,
    phone_ip: str,
    proximity: str,
    *,
    scanner: str = "",
    **changes: object,
) -> FarAwayRefused:
    """End the login the far-away policy refuses (the PC is told it was cancelled; it is not
    told why, which would only help an attacker) and the error the phone is answered with:
    where the PC is, so the phone can say it. Without `scanner` (at the scan) only a ticket
    nobody has scanned is cancelled: a phone near the PC may have won the race."""
    try:
        ticket = await _cancel(
            gw,
            ticket_id,
            scanner=scanner,
            reason=FAR_AWAY_REFUSED,
            only_from=None if scanner else frozenset({TicketStatus.PENDING}),
            **changes,
        )
    except IllegalTransition as exc:
        raise TicketAlreadyScanned() from exc
    SCANS_BY_PROXIMITY.labels(proximity, "refused").inc()
    with logs.bound(trace_id=ticket.trace_id):
        log.warning("far_away_refused", ticket_id=ticket.id, proximity=proximity)
    pc, phone, _ = _nearness(gw, ticket.pc_ip, phone_ip)
    return FarAwayRefused(
        details={
            "proximity": proximity,
            "location": pc.to_json(),
            "phone_location": phone.to_json(),
        }
    )


async def _live(tickets: TicketStore, ticket_id: str, now: float) -> Ticket:
    """Refuse early (before spending a WeChat call) when the ticket has lapsed."""
    ticket = await tickets.require(ticket_id)
    if ticket.status_at(now) == TicketStatus.EXPIRED:
        raise TicketExpired()
    return ticket


@routes.post("/mp/v1/scan")
async def scan(request: web.Request) -> web.Response:
    gw = request.app[GATEWAY]
    ip = client_ip(request, gw.settings.trusted_proxy_hops)
    await gw.limiter.hit("scan-ip", ip, limit=gw.settings.rate_scans_per_ip, per=60)
    body = await read_json(request, ScanRequest)
    now = gw.clock.now()
    ticket = await _live(gw.tickets, body.ticket, now)
    # A scanned ticket may be this phone's own scan whose answer it never got (a gateway or
    # a store failover lost it): it is told who scanned only after code2Session.
    if ticket.status not in (TicketStatus.PENDING, TicketStatus.SCANNED):
        raise refusal("illegal_transition", ticket.status, TicketStatus.SCANNED)
    conn = await gw.registry.connection(ticket.connection_id)
    mp = mini_program(conn, gw.settings, gw.box)
    wx = await gw.wechat.code2session(mp.appid, mp.secret, body.code)
    await gw.limiter.hit("scan-user", wx.openid, limit=gw.settings.rate_scans_per_user, per=60)
    if ticket.status == TicketStatus.SCANNED and ticket.scanner_openid != wx.openid:
        raise TicketAlreadyScanned()
    pc_place, phone_place, near = _nearness(gw, ticket.pc_ip, ip)
    if near.far and conn.far_away == FarAwayPolicy.REFUSE:
        # After code2Session, so only a real WeChat user (rate-limited) can end a login.
        raise await _refuse_far_away(
            gw,
            ticket.id,
            ip,
            near.proximity.value,
            scanner_openid=wx.openid,
            scanner_unionid=wx.unionid or "",
            scanned_at=now,
        )
    session, store_session = gw.sessions.prepare(
        ScanSession(
            ticket=ticket.id,
            connection_id=conn.id,
            openid=wx.openid,
            unionid=wx.unionid or "",
            appid=mp.appid,
            far_away=near.far,
            proximity=near.proximity.value,
        ),
        ttl=int(ticket.expires_at - now) + 5,
    )
    if ticket.status == TicketStatus.SCANNED:
        # The same person again: a new session for the phone, the ticket as it is.
        await gw.sessions.store(store_session)
        with logs.bound(trace_id=ticket.trace_id):
            log.info("scan_repeated", ticket_id=ticket.id)
        return await _scanned(gw, ticket, conn, session, pc_place, phone_place, near, body)
    # The session is written in the transition's round trip; if the scan is refused, it is
    # a session whose token nobody was given, and it expires unused.
    ticket = await lifecycle.scan(
        gw.tickets,
        body.ticket,
        openid=wx.openid,
        changes={
            "scanner_unionid": wx.unionid or "",
            "scanner_nickname": body.nickname or "",
            "scanner_avatar": body.avatar_url or "",
            "launch_scene": -1 if body.launch_scene is None else body.launch_scene,
        },
        also=store_session,
    )
    with logs.bound(trace_id=ticket.trace_id):
        log.info(
            "ticket_scanned",
            ticket_id=ticket.id,
            launch_scene=body.launch_scene,
            proximity=near.proximity.value,
        )
    SCANS_BY_PROXIMITY.labels(near.proximity.value, "scanned").inc()
    return await _scanned(gw, ticket, conn, session, pc_place, phone_place, near, body)


async def _scanned(
    gw: Gateway,
    ticket: Ticket,
    conn: Connection,
    session: str,
    pc_place: Place,
    phone_place: Place,
    near: Nearness,
    body: ScanRequest,
) -> web.Response:
    """What the phone is told of a scan: the site, the request, and its session."""
    app = await gw.registry.app(ticket.client_id)
    return web.json_response(
        {
            "ticket": ticket.id,
            "session": session,
            "expires_at": ticket.expires_at,
            "site": {
                "name": conn.display_name,
                "app": app.name,
                "connection": conn.id,
                "logo_url": f"{gw.settings.issuer}/api/v1/connections/{conn.id}/logo.png"
                if conn.logo_png
                else None,
            },
            "request": {
                "ip": ticket.pc_ip,
                # The English text, for mini programs that know only this; `location` has
                # both languages.
                "place": pc_place.text("en"),
                "location": pc_place.to_json(),
                "browser": describe(ticket.pc_user_agent),
                "time": datetime.fromtimestamp(ticket.created_at, UTC)
                .isoformat()
                .replace("+00:00", "Z"),
            },
            "phone": {
                "requested": conn.request_phone or conn.require_phone,
                "required": conn.require_phone,
            },
            "proximity": {
                "level": near.proximity.value,
                "far": near.far,
                "phone_location": phone_place.to_json(),
            },
            "risk": risk(body.launch_scene, near),
        }
    )


@routes.post("/mp/v1/confirm")
async def confirm(request: web.Request) -> web.Response:
    gw = request.app[GATEWAY]
    body = await read_json(request, ConfirmRequest)
    session = await gw.sessions.require(body.session, body.ticket)
    now = gw.clock.now()
    # The transition below refuses a lapsed or finished ticket; a read first is only worth it
    # before spending a (paid) phone-number code.
    conn = await gw.registry.connection(session.connection_id)
    # The policy as it is now (an operator may have tightened it since the scan).
    if session.far_away and conn.far_away == FarAwayPolicy.REFUSE:
        ip = client_ip(request, gw.settings.trusted_proxy_hops)
        raise await _refuse_far_away(gw, body.ticket, ip, session.proximity, scanner=session.openid)
    if (
        session.far_away
        and conn.far_away == FarAwayPolicy.CONFIRM_TWICE
        and not body.far_away_acknowledged
    ):
        raise FarAwayConfirmationRequired()
    phone = ""
    if body.phone_code:
        await _live(gw.tickets, body.ticket, now)
        mp = mini_program(conn, gw.settings, gw.box)
        try:
            info = await gw.wechat.get_phone_number(
                mp.appid, mp.secret, body.phone_code, openid=session.openid
            )
        except WeChatError as exc:
            if not refused_for_good(exc):
                raise  # the phone may try again (a fresh phone code, or in a moment)
            return _answer(await _wechat_refused(gw, session, exc), gw.clock.now())
        phone = info.phone_number
    if conn.require_phone and not phone:
        raise PhoneRequired()
    # Watched from before the move: the decision may come before the move's own answer.
    with gw.outcomes.watching(body.ticket) as decided:
        ticket = await lifecycle.confirm(
            gw.tickets,
            body.ticket,
            scanner=session.openid,
            unionid=session.unionid,
            phone=phone,
            changes={
                # Profile given at confirm wins over what came with the scan.
                **({"scanner_nickname": body.nickname} if body.nickname else {}),
                **({"scanner_avatar": body.avatar_url} if body.avatar_url else {}),
            },
        )
        with logs.bound(trace_id=ticket.trace_id):
            log.info("ticket_confirmed", ticket_id=ticket.id, has_phone=bool(phone))
        # The phone must never say "logged in" for a refused login: it is told the
        # account service's decision, or `pending` (and asks /mp/v1/status) if it is slow.
        await wait_decided(decided)
    decided_ticket = await gw.tickets.get(ticket.id)
    return _answer(decided_ticket or ticket, gw.clock.now())


def refused_for_good(exc: WeChatError) -> bool:
    """WeChat answered this login's call with a refusal that trying again will not change
    (the user blocked for risk, our credentials or arguments refused, an errcode we do not
    know). A stale phone code (the phone asks for a new one), a quota or a busy or
    unreachable WeChat stay errors the phone may retry."""
    transient = (WeChatInvalidCode, WeChatRateLimited, WeChatBusy, WeChatUnavailable)
    return exc.errcode is not None and not isinstance(exc, transient)


async def _wechat_refused(gw: Gateway, session: ScanSession, exc: WeChatError) -> Ticket:
    """End the login WeChat refused a call for: failed with `wechat_refused:<errcode>`, so
    the PC says WeChat refused it and the site is answered access_denied (not "cancelled",
    which is what the person tapping Cancel gets)."""
    reason = f"{WECHAT_REFUSED}:{exc.errcode}"
    ticket = await lifecycle.refuse(
        gw.tickets, session.ticket, scanner=session.openid, reason=reason
    )
    with logs.bound(trace_id=ticket.trace_id):
        log.warning(
            "wechat_refused", ticket_id=ticket.id, code=exc.code, errcode=exc.errcode, rid=exc.rid
        )
    return ticket


class StatusRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ticket: str = TICKET
    session: str = Field(min_length=1, max_length=128)


@routes.post("/mp/v1/status")
async def status(request: web.Request) -> web.Response:
    """Where the login the phone confirmed stands: for a phone told `pending` by the confirm.
    Only the phone that scanned may ask (its session); nothing about the account is said
    beyond the reason."""
    gw = request.app[GATEWAY]
    body = await read_json(request, StatusRequest)
    # The session names the ticket it scanned: another phone's is refused (not_scanner).
    await gw.sessions.require(body.session, body.ticket)
    ticket = await gw.tickets.require(body.ticket)
    return _answer(ticket, gw.clock.now())


def _answer(ticket: Ticket, now: float) -> web.Response:
    status = ticket.status_at(now).value
    return web.json_response({"ticket": ticket.id, "status": status, **outcome_of(ticket)})


@routes.post("/mp/v1/cancel")
async def cancel(request: web.Request) -> web.Response:
    gw = request.app[GATEWAY]
    body = await read_json(request, CancelRequest)
    session = await gw.sessions.require(body.session, body.ticket)
    ticket = await _cancel(gw, body.ticket, scanner=session.openid)
    return web.json_response({"ticket": ticket.id, "status": ticket.status.value})
