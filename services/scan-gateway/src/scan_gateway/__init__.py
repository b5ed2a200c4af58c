"""scan-gateway: the HTTPS API the mini program calls. Owns WeChat session keys."""
