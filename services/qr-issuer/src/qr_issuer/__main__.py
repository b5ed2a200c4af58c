from shared.runtime import run_service

from qr_issuer.app import create_app

if __name__ == "__main__":
    run_service("qr-issuer", create_app)
