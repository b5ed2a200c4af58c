"""notifier's settings: Redis, the bus and its socket; it holds no secret of its own."""

from __future__ import annotations

from shared.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    pass
