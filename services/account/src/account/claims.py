"""What a token may say about the person: the claims each scope grants (OpenID Connect Core
section 5.4), in the shapes the standard fixes."""

from __future__ import annotations

import re
from typing import Any

# The scopes we grant; any other a site asks for is left out of what is granted.
SCOPES = ("openid", "profile", "phone")
PROFILE_CLAIMS = ("name", "picture")
PHONE_CLAIMS = ("phone_number", "phone_number_verified")
_NOT_DIGITS = re.compile(r"\D")


def granted(requested: str) -> str:
    """The scopes of `requested` we grant, in our order, space-separated."""
    asked = set(requested.split())
    return " ".join(s for s in SCOPES if s in asked)


def narrowed(granted_scope: str, requested: str) -> str | None:
    """A refresh asking for `requested` gets those scopes if the original grant had every one
    of them (RFC 6749 section 6), else None."""
    asked = set(requested.split())
    have = set(granted_scope.split())
    if not asked <= have:
        return None
    return " ".join(s for s in SCOPES if s in asked)


def e164(phone: str) -> str:
    """A phone number as WeChat gives it, in E.164: mainland China numbers come without their
    country code ("13800001111"), others with it and a space ("+1 4155550199")."""
    digits = _NOT_DIGITS.sub("", phone)
    if phone.lstrip().startswith("+"):
        return f"+{digits}"
    return f"+86{digits}"


def person_claims(user: dict[str, Any], scope: str) -> dict[str, Any]:
    """The claims `scope` grants about `user` (a stored account), leaving out what is not
    known: phone_number_verified only beside a phone number."""
    scopes = set(scope.split())
    out: dict[str, Any] = {}
    if "profile" in scopes:
        # A WeChat nickname, else the name a local account was given.
        if name := user.get("nickname") or user.get("name"):
            out["name"] = name
        if user.get("avatar_url"):
            out["picture"] = user["avatar_url"]
    if "phone" in scopes and user.get("phone"):
        out["phone_number"] = e164(user["phone"])
        out["phone_number_verified"] = bool(user.get("phone_verified"))
    return out
