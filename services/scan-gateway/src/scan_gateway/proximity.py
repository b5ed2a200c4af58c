"""How near the phone is to the PC that asks to log in, and what a connection's far-away policy
makes of it.

Cross-device phishing: an attacker opens the login page himself and gets the victim to scan
his QR code. The attacker's PC is rarely on the victim's network or in the victim's city, so
the phone is told where both are, and a connection may ask for a second confirmation or
refuse when they are far apart.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum

from scan_gateway.places import Address, Place, PlaceKind, is_local, parse_address
from shared.errors import AppError

# The prefix one subscriber line or site usually has: a home or office NAT's addresses share
# a /24, an IPv6 customer gets a /48 (or smaller).
IPV4_NETWORK = 24
IPV6_NETWORK = 48


class Proximity(StrEnum):
    SAME_ADDRESS = "same_address"
    SAME_NETWORK = "same_network"  # same /24 or /48, or both on private networks
    SAME_CITY = "same_city"
    SAME_COUNTRY = "same_country"  # not known to be the same city
    DIFFERENT_COUNTRY = "different_country"
    UNKNOWN = "unknown"  # an address the GeoIP database does not place


@dataclass(frozen=True)
class Nearness:
    proximity: Proximity
    # Known to be in another city or another country: the phone warns, the policy applies.
    far: bool


def _network(addr: Address) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    prefix = IPV4_NETWORK if addr.version == 4 else IPV6_NETWORK
    return ipaddress.ip_network(f"{addr}/{prefix}", strict=False)


def compare(pc_ip: str, pc: Place, phone_ip: str, phone: Place) -> Nearness:
    """The nearest thing the two have in common. Far means both are placed and they are in
    different countries, or in two different known cities."""
    a, b = parse_address(pc_ip), parse_address(phone_ip)
    if a is None or b is None:
        return Nearness(Proximity.UNKNOWN, far=False)
    if a == b:
        return Nearness(Proximity.SAME_ADDRESS, far=False)
    if is_local(a) and is_local(b):
        return Nearness(Proximity.SAME_NETWORK, far=False)
    if a.version == b.version and _network(a) == _network(b):
        return Nearness(Proximity.SAME_NETWORK, far=False)
    if pc.kind != PlaceKind.LOCATED or phone.kind != PlaceKind.LOCATED:
        return Nearness(Proximity.UNKNOWN, far=False)
    if not pc.country_code or not phone.country_code:
        return Nearness(Proximity.UNKNOWN, far=False)
    if pc.country_code != phone.country_code:
        return Nearness(Proximity.DIFFERENT_COUNTRY, far=True)
    pc_city, phone_city = pc.city_key, phone.city_key
    if pc_city is not None and pc_city == phone_city:
        return Nearness(Proximity.SAME_CITY, far=False)
    return Nearness(Proximity.SAME_COUNTRY, far=pc_city is not None and phone_city is not None)


class FarAwayRefused(AppError):
    status = 403
    code = "far_away_refused"
    message = (
        "The computer asking to log in is far from this phone, and this site does not allow "
        "that; the login has been cancelled."
    )


class FarAwayConfirmationRequired(AppError):
    status = 409
    code = "far_away_confirmation_required"
    message = (
        "The computer asking to log in is far from this phone: confirm again with "
        "far_away_acknowledged set to true if you are really at that computer."
    )
