"""A local imitation of api.weixin.qq.com for the mini program login flow (wechat-api.md §13)."""

from wechat_sandbox.app import STATE, create_app
from wechat_sandbox.settings import SandboxConfig

__all__ = ["STATE", "SandboxConfig", "create_app"]
