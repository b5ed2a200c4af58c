import asyncio

from shared.runtime import serve
from shared.settings import Settings

from account.app import create_app
from shared import logging


def main() -> None:
    settings = Settings.from_env()
    logging.configure("account", level=settings.log_level, json=settings.log_json)
    asyncio.run(serve(create_app(settings), settings.host, settings.port))


if __name__ == "__main__":
    main()
