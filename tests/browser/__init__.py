"""Browser tests: Playwright drives Debian's Chromium against a live Django server."""
