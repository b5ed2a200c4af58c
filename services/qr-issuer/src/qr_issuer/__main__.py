from qr_issuer.app import create_app
from qr_issuer.settings import QrIssuerSettings
from shared.runtime import run_service

if __name__ == "__main__":
    run_service("qr-issuer", QrIssuerSettings, create_app)
