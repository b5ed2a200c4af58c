"""Which mini program a connection logs in with: the platform's own or the operator's."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.crypto import SecretBox
from shared.registry import Connection
from shared.settings import WeChatSettings


@dataclass(frozen=True)
class MiniProgram:
    appid: str
    secret: str = field(repr=False)


def mini_program(conn: Connection, settings: WeChatSettings, box: SecretBox) -> MiniProgram:
    if conn.private and conn.appid and conn.app_secret_sealed:
        return MiniProgram(conn.appid, box.open(conn.app_secret_sealed))
    return MiniProgram(settings.wx_appid, settings.wx_secret.get_secret_value())
