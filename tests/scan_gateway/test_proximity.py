"""How near the phone is to the PC: the same address or network, the same city or country by
the GeoIP database, or unknown; far only when both are placed in different cities or
countries."""

from __future__ import annotations

from pathlib import Path

import pytest
from geoip_testkit import (
    BEIJING,
    BEIJING_OTHER_NETWORK,
    BEIJING_SAME_NETWORK,
    BEIJING_V6,
    BEIJING_V6_SAME_NETWORK,
    CHINA_NO_CITY,
    NOWHERE,
    SHANGHAI,
    SHENZHEN,
    TOKYO,
)

from scan_gateway.places import Places
from scan_gateway.proximity import Nearness, Proximity, compare


@pytest.fixture(scope="module")
def places(geoip_db: Path) -> Places:
    return Places.open(str(geoip_db))


def near(places: Places, pc: str, phone: str) -> Nearness:
    return compare(pc, places.place(pc), phone, places.place(phone))


P = Proximity


@pytest.mark.parametrize(
    ("pc", "phone", "proximity", "far"),
    [
        (BEIJING, BEIJING, P.SAME_ADDRESS, False),
        (BEIJING, f"::ffff:{BEIJING}", P.SAME_ADDRESS, False),
        (BEIJING, BEIJING_SAME_NETWORK, P.SAME_NETWORK, False),
        (BEIJING_V6, BEIJING_V6_SAME_NETWORK, P.SAME_NETWORK, False),
        ("192.168.1.5", "10.0.0.7", P.SAME_NETWORK, False),  # both private
        ("127.0.0.1", "127.0.0.1", P.SAME_ADDRESS, False),
        (BEIJING, BEIJING_OTHER_NETWORK, P.SAME_CITY, False),
        (BEIJING_V6, BEIJING, P.SAME_CITY, False),  # the phone on IPv4, the PC on IPv6
        (SHANGHAI, BEIJING, P.SAME_COUNTRY, True),
        (SHENZHEN, BEIJING_V6, P.SAME_COUNTRY, True),
        (CHINA_NO_CITY, BEIJING, P.SAME_COUNTRY, False),  # not known to be another city
        (TOKYO, BEIJING, P.DIFFERENT_COUNTRY, True),
        (BEIJING, TOKYO, P.DIFFERENT_COUNTRY, True),
        (NOWHERE, BEIJING, P.UNKNOWN, False),
        ("192.168.1.5", BEIJING, P.UNKNOWN, False),  # a private PC address says nothing
        ("", BEIJING, P.UNKNOWN, False),
    ],
)
def test_the_nearest_thing_pc_and_phone_share(
    places: Places, pc: str, phone: str, proximity: Proximity, far: bool
) -> None:
    assert near(places, pc, phone) == Nearness(proximity, far)


def test_without_a_database_only_addresses_are_compared() -> None:
    none = Places()
    assert near(none, BEIJING, BEIJING_SAME_NETWORK) == Nearness(P.SAME_NETWORK, far=False)
    assert near(none, TOKYO, BEIJING) == Nearness(P.UNKNOWN, far=False)
