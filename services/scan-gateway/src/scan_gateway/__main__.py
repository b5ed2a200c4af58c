from scan_gateway.app import create_app
from scan_gateway.settings import ScanGatewaySettings
from shared.runtime import run_service

if __name__ == "__main__":
    run_service("scan-gateway", ScanGatewaySettings, create_app)
