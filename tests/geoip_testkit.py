"""A small GeoIP database of our own, in MaxMind DB format with GeoLite2-City's record shape,
for scan-gateway to read with the real geoip2. The networks are public ones with made-up
places; nothing is ever sent to them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmdb_writer import MMDBWriter
from netaddr import IPSet

# Addresses the tests use, by where the database puts them.
BEIJING = "101.6.8.10"
BEIJING_SAME_NETWORK = "101.6.8.200"  # same /24 as BEIJING
BEIJING_OTHER_NETWORK = "123.112.5.6"  # another ISP in the same city
BEIJING_V6 = "2001:da8:1:2::10"
BEIJING_V6_SAME_NETWORK = "2001:da8:1:ffff::99"  # same /48
SHANGHAI = "202.120.2.101"
SHENZHEN = "113.88.1.1"
CHINA_NO_CITY = "36.0.2.3"  # the database knows only the country
TOKYO = "133.11.0.1"
NOWHERE = "8.8.4.4"  # public, not in the database

_CHINA = {
    "geoname_id": 1814991,
    "iso_code": "CN",
    "names": {"en": "China", "zh-CN": "中国", "ja": "中国"},
}
_JAPAN = {"geoname_id": 1861060, "iso_code": "JP", "names": {"en": "Japan", "zh-CN": "日本"}}


def _city(
    country: dict[str, Any],
    region: tuple[int, str, dict[str, str]],
    city: tuple[int, dict[str, str]],
) -> dict[str, Any]:
    region_id, region_code, region_names = region
    city_id, city_names = city
    return {
        "city": {"geoname_id": city_id, "names": city_names},
        "country": country,
        "subdivisions": [{"geoname_id": region_id, "iso_code": region_code, "names": region_names}],
    }


RECORDS: dict[str, dict[str, Any]] = {
    "101.6.0.0/16": _city(
        _CHINA,
        (2038349, "BJ", {"en": "Beijing", "zh-CN": "北京市"}),
        (1816670, {"en": "Beijing", "zh-CN": "北京"}),
    ),
    "123.112.0.0/16": _city(
        _CHINA,
        (2038349, "BJ", {"en": "Beijing", "zh-CN": "北京市"}),
        (1816670, {"en": "Beijing", "zh-CN": "北京"}),
    ),
    "2001:da8::/32": _city(
        _CHINA,
        (2038349, "BJ", {"en": "Beijing", "zh-CN": "北京市"}),
        (1816670, {"en": "Beijing", "zh-CN": "北京"}),
    ),
    "202.120.0.0/16": _city(
        _CHINA,
        (1796231, "SH", {"en": "Shanghai", "zh-CN": "上海市"}),
        (1796236, {"en": "Shanghai", "zh-CN": "上海"}),
    ),
    # No Chinese city name: the English one stands in.
    "113.88.0.0/16": _city(
        _CHINA,
        (1809935, "GD", {"en": "Guangdong", "zh-CN": "广东"}),
        (1795565, {"en": "Shenzhen"}),
    ),
    "36.0.0.0/16": {"country": _CHINA},
    "133.11.0.0/16": _city(
        _JAPAN,
        (1850144, "13", {"en": "Tokyo", "zh-CN": "东京都"}),
        (1850147, {"en": "Tokyo", "zh-CN": "东京"}),
    ),
}


def write_city_db(path: Path, database_type: str = "GeoLite2-City") -> Path:
    """Writes the test database to `path` (IPv6 tree with IPv4 mapped in, as MaxMind's)."""
    writer = MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type=database_type,
        languages=["en", "zh-CN"],
        description="MiniLogin test places",
        int_type="u32",
    )
    for network, record in RECORDS.items():
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(path))
    return path
