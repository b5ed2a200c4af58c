"""Where the phone is told the PC is: the operator's GeoIP database read with geoip2, names in
English and Chinese; without a database, only loopback and private addresses."""

from __future__ import annotations

from pathlib import Path

import pytest
from geoip_testkit import (
    BEIJING,
    BEIJING_V6,
    CHINA_NO_CITY,
    NOWHERE,
    SHENZHEN,
    TOKYO,
    write_city_db,
)

from scan_gateway.places import Place, PlaceKind, Places
from scan_gateway.settings import ScanGatewaySettings
from shared.settings import InvalidSettings


@pytest.fixture(scope="module")
def places(geoip_db: Path) -> Places:
    return Places.open(str(geoip_db))


def texts(place: Place) -> tuple[str | None, str | None]:
    return place.text("en"), place.text("zh")


@pytest.mark.parametrize(
    ("ip", "en", "zh"),
    [
        (BEIJING, "Beijing, China", "中国 北京市"),  # the city named like its province: once
        (BEIJING_V6, "Beijing, China", "中国 北京市"),
        (f"::ffff:{BEIJING}", "Beijing, China", "中国 北京市"),  # a dual-stack socket's form
        (SHENZHEN, "Shenzhen, Guangdong, China", "中国 广东 Shenzhen"),  # no Chinese name
        (TOKYO, "Tokyo, Japan", "日本 东京都"),
        (CHINA_NO_CITY, "China", "中国"),
    ],
)
def test_a_city_database_names_country_province_and_city_in_both_languages(
    places: Places, ip: str, en: str, zh: str
) -> None:
    place = places.place(ip)
    assert place.kind == PlaceKind.LOCATED
    assert texts(place) == (en, zh)


def test_the_phone_gets_each_part_in_both_languages(places: Places) -> None:
    assert places.place(SHENZHEN).to_json() == {
        "kind": "located",
        "country_code": "CN",
        "en": {
            "text": "Shenzhen, Guangdong, China",
            "country": "China",
            "region": "Guangdong",
            "city": "Shenzhen",
        },
        "zh": {
            "text": "中国 广东 Shenzhen",
            "country": "中国",
            "region": "广东",
            "city": "Shenzhen",
        },
    }


@pytest.mark.parametrize("ip", [NOWHERE, "2001:4860:4860::8888", "not-an-ip", ""])
def test_an_address_the_database_does_not_place_is_unknown(places: Places, ip: str) -> None:
    place = places.place(ip)
    assert place == Place.UNKNOWN
    assert place.to_json() == {
        "kind": "unknown",
        "country_code": None,
        "en": {"text": None, "country": None, "region": None, "city": None},
        "zh": {"text": None, "country": None, "region": None, "city": None},
    }


@pytest.mark.parametrize(
    ("ip", "en", "zh"),
    [
        ("127.0.0.1", "This machine (loopback)", "本机（回环地址）"),
        ("::1", "This machine (loopback)", "本机（回环地址）"),
        ("192.168.1.20", "Local network", "局域网"),
        ("10.1.2.3", "Local network", "局域网"),
        ("172.16.0.9", "Local network", "局域网"),
        ("fe80::1", "Local network", "局域网"),
        ("169.254.10.10", "Local network", "局域网"),
        (BEIJING, None, None),
        ("2001:4860:4860::8888", None, None),
        ("not-an-ip", None, None),
        ("", None, None),
    ],
)
def test_without_a_database_only_loopback_and_private_addresses_have_a_place(
    ip: str, en: str | None, zh: str | None
) -> None:
    assert texts(Places().place(ip)) == (en, zh)


def test_loopback_and_private_addresses_need_no_database(places: Places) -> None:
    assert places.place("127.0.0.1").kind == PlaceKind.LOOPBACK
    assert places.place("192.168.3.4").kind == PlaceKind.LOCAL_NETWORK


def test_a_country_database_names_only_the_country(tmp_path: Path) -> None:
    db = write_city_db(tmp_path / "country.mmdb", database_type="GeoLite2-Country")
    place = Places.open(str(db)).place(BEIJING)
    assert (place.country_code, place.city, place.city_key) == ("CN", None, None)
    assert texts(place) == ("China", "中国")


def test_the_database_is_read_from_ml_geoip_db(geoip_db: Path) -> None:
    settings = ScanGatewaySettings.from_env({"ML_ENV": "development", "ML_GEOIP_DB": str(geoip_db)})
    assert settings.geoip_db == str(geoip_db)
    assert ScanGatewaySettings.from_env({"ML_ENV": "development"}).geoip_db == ""


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("missing.mmdb", None, "cannot be read as a MaxMind DB file"),
        ("junk.mmdb", b"not a database", "cannot be read as a MaxMind DB file"),
        ("asn.mmdb", "GeoLite2-ASN", "is a GeoLite2-ASN database; a City or Country one"),
    ],
)
def test_a_geoip_database_that_cannot_be_used_stops_the_service_at_startup(
    tmp_path: Path, name: str, content: bytes | str | None, problem: str
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        write_city_db(path, database_type=content)
    with pytest.raises(InvalidSettings) as caught:
        ScanGatewaySettings.from_env({"ML_ENV": "development", "ML_GEOIP_DB": str(path)})
    assert f"ML_GEOIP_DB='{path}': {problem}" in str(caught.value)
