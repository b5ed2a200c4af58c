from notifier.app import create_app
from notifier.settings import NotifierSettings
from shared.runtime import run_service

if __name__ == "__main__":
    run_service("notifier", NotifierSettings, create_app)
