"""Browser journeys: Debian's Chromium, driven by Playwright, through the real product.

Run with `pytest --browser -m browser casedesk/journeys`; a plain `pytest` skips them.
"""
