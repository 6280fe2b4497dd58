"""OAuth 2.0 authorization server add-ons emulated by the sandbox, one module per add-on."""
