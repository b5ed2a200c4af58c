from account.app import create_app
from shared.runtime import run_service

if __name__ == "__main__":
    run_service("account", create_app)
