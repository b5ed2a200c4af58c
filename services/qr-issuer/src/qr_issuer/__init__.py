"""qr-issuer: the hosted login page, login tickets and their QR codes."""
