from shared.runtime import run_service

from account.app import create_app

if __name__ == "__main__":
    run_service("account", create_app)
