from account.app import create_app
from account.settings import AccountSettings
from shared.runtime import run_service

if __name__ == "__main__":
    run_service("account", AccountSettings, create_app)
