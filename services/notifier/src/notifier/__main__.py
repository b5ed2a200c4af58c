from shared.runtime import run_service

from notifier.app import create_app

if __name__ == "__main__":
    run_service("notifier", create_app)
