"""Run the sandbox standalone: environment -> settings -> logging -> serve."""

from __future__ import annotations

import os

from shared import logs
from shared.runtime import run, serve
from wechat_sandbox.app import create_app
from wechat_sandbox.settings import SandboxConfig


def main() -> None:
    config = SandboxConfig.from_env()
    logs.configure(
        "wechat-sandbox",
        level=os.environ.get("ML_LOG_LEVEL", "INFO"),
        json=os.environ.get("ML_LOG_JSON", "true").lower() != "false",
    )
    logs.get(__name__).info(
        "sandbox_starting", host=config.host, port=config.port, appid=config.appid
    )
    # The services' own serve loop: uvloop, graceful shutdown, the same collector settings.
    run(serve(create_app(config=config), config.host, config.port))


if __name__ == "__main__":
    main()
