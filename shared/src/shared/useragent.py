"""A short human description of a browser ("Chrome 120 on Windows") for the phone to show."""

from __future__ import annotations

import re

_BROWSERS = [
    ("Edge", re.compile(r"Edg(?:e|A|iOS)?/(\d+)")),
    ("Opera", re.compile(r"OPR/(\d+)")),
    ("WeChat", re.compile(r"MicroMessenger/(\d+)")),
    ("Firefox", re.compile(r"Firefox/(\d+)")),
    ("Chrome", re.compile(r"(?:Chrome|CriOS|HeadlessChrome)/(\d+)")),
    ("Safari", re.compile(r"Version/(\d+).*Safari/")),
]
_SYSTEMS = [
    ("Windows", "Windows NT"),
    ("iOS", "iPhone"),
    ("iPadOS", "iPad"),
    ("macOS", "Mac OS X"),
    ("Android", "Android"),
    ("ChromeOS", "CrOS"),
    ("Linux", "Linux"),
]


def describe(user_agent: str) -> str:
    ua = user_agent[:512]
    browser = next(
        (f"{name} {m.group(1)}" for name, rx in _BROWSERS if (m := rx.search(ua))),
        "Unknown browser",
    )
    system = next((name for name, marker in _SYSTEMS if marker in ua), "")
    return f"{browser} on {system}" if system else browser
