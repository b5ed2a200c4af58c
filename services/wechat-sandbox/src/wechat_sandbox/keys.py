"""Typed application keys: the sandbox keeps its whole world under one."""

from __future__ import annotations

from aiohttp import web

from wechat_sandbox.state import SandboxState

STATE = web.AppKey("wechat_sandbox_state", SandboxState)
