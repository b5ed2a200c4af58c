"""What every request handler and consumer of this service reaches through the app."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from account.audit import AuditLog
from account.codes import CodeStore
from account.grants import GrantStore
from account.local_accounts import LocalAccounts
from account.settings import AccountSettings
from account.signin_throttle import SignInThrottle
from account.signing import AccessTokenKey, SigningKey
from account.users import UserStore
from shared.bus import Bus
from shared.clock import Clock
from shared.crypto import SecretBox
from shared.ratelimit import RateLimiter
from shared.registry import Registry
from shared.tickets import TicketStore


@dataclass
class Account:
    settings: AccountSettings
    clock: Clock
    tickets: TicketStore
    registry: Registry
    users: UserStore
    codes: CodeStore
    grants: GrantStore
    signing: SigningKey
    access_tokens: AccessTokenKey
    bus: Bus
    box: SecretBox
    limiter: RateLimiter
    local_accounts: LocalAccounts
    sign_in_throttle: SignInThrottle
    audit: AuditLog


ACCOUNT = web.AppKey("account", Account)
