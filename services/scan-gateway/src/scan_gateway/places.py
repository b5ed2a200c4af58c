"""Where an IP address is, for the phone to show: the operator's GeoIP database (ML_GEOIP_DB,
MaxMind DB format: GeoLite2/GeoIP2 City or Country, DB-IP Lite), read with geoip2.

Without a database only loopback and private addresses have a place. Names come in English
and Simplified Chinese (`en`, `zh-CN` in the database); a missing Chinese name falls back to
the English one. A lookup is a few microseconds (the C reader over a memory map), so it runs
on the event loop.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

import geoip2.database
import geoip2.errors
import geoip2.models
import geoip2.records
import maxminddb

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
LANGUAGES = ("en", "zh")
# Our language -> the database's locale.
_LOCALES = {"en": "en", "zh": "zh-CN"}


class PlaceKind(StrEnum):
    LOCATED = "located"  # found in the GeoIP database
    LOOPBACK = "loopback"
    LOCAL_NETWORK = "local_network"  # a private or link-local address
    UNKNOWN = "unknown"  # public, but no database or not in it


# What to call the places no database names, in each language.
_LOCAL_TEXT = {
    PlaceKind.LOOPBACK: {"en": "This machine (loopback)", "zh": "本机（回环地址）"},
    PlaceKind.LOCAL_NETWORK: {"en": "Local network", "zh": "局域网"},
}


@dataclass(frozen=True)
class Names:
    """One place name in our languages."""

    en: str
    zh: str

    @classmethod
    def of(cls, record: geoip2.records.PlaceRecord) -> Names | None:
        names: dict[str, str] = record.names
        en = names.get(_LOCALES["en"]) or ""
        zh = names.get(_LOCALES["zh"]) or ""
        return cls(en or zh, zh or en) if en or zh else None

    def __getitem__(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Place:
    kind: PlaceKind
    country_code: str = ""
    country: Names | None = None
    region: Names | None = None  # the largest subdivision: a province, state or prefecture
    city: Names | None = None
    city_id: int | None = None  # the database's geoname id, when it has one

    UNKNOWN: ClassVar[Place]

    @property
    def city_key(self) -> tuple[str, ...] | None:
        """What makes two places the same city; None when the city is not known."""
        if self.city is None or not self.country_code:
            return None
        if self.city_id is not None:
            return (self.country_code, str(self.city_id))
        return (self.country_code, self.region.en if self.region else "", self.city.en)

    def text(self, lang: str) -> str | None:
        """How a person reads it: "Shenzhen, Guangdong, China"; "中国 广东 深圳"."""
        if self.kind in _LOCAL_TEXT:
            return _LOCAL_TEXT[self.kind][lang]
        parts = [n[lang] for n in (self.country, self.region, self.city) if n is not None]
        parts = _without_repeats(parts)
        if not parts:
            return None
        return " ".join(parts) if lang == "zh" else ", ".join(reversed(parts))

    def to_json(self) -> dict[str, Any]:
        """Both languages, so the phone picks its own."""

        def names(lang: str) -> dict[str, str | None]:
            return {
                "text": self.text(lang),
                "country": self.country[lang] if self.country else None,
                "region": self.region[lang] if self.region else None,
                "city": self.city[lang] if self.city else None,
            }

        return {
            "kind": self.kind.value,
            "country_code": self.country_code or None,
            **{lang: names(lang) for lang in LANGUAGES},
        }


Place.UNKNOWN = Place(PlaceKind.UNKNOWN)


def _without_repeats(parts: list[str]) -> list[str]:
    """Largest first; a name that repeats the one before it (Beijing, Beijing; 北京市, 北京)
    is said once, keeping the longer."""
    out: list[str] = []
    for part in parts:
        if out and (out[-1].startswith(part) or part.startswith(out[-1])):
            out[-1] = max(out[-1], part, key=len)
        else:
            out.append(part)
    return out


def parse_address(ip: str) -> Address | None:
    """The address, with an IPv4-mapped IPv6 one (a dual-stack socket's ::ffff:a.b.c.d) as
    IPv4; None for anything that is not an address."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def is_local(addr: Address) -> bool:
    return addr.is_loopback or addr.is_private or addr.is_link_local


class Places:
    """Looks addresses up in the operator's GeoIP database, if there is one."""

    def __init__(self, reader: geoip2.database.Reader | None = None) -> None:
        self._reader = reader
        kind = reader.metadata().database_type if reader else ""
        # A City database (GeoLite2-City, DBIP-City-Lite) names cities; a Country one only
        # countries.
        self._city = "City" in kind

    @classmethod
    def open(cls, path: str) -> Places:
        """The database at `path` ("" for none). Raises ValueError for a file that is
        missing, unreadable or not a City or Country database."""
        if not path:
            return cls()
        try:
            reader = geoip2.database.Reader(path)
        except (OSError, maxminddb.InvalidDatabaseError, ValueError) as exc:
            raise ValueError(f"cannot be read as a MaxMind DB file ({exc})") from None
        kind = reader.metadata().database_type
        if "City" not in kind and "Country" not in kind:
            reader.close()
            raise ValueError(
                f"is a {kind} database; a City or Country one is needed (GeoLite2-City, "
                "GeoIP2-City, DB-IP Lite City, or their Country editions)"
            )
        return cls(reader)

    @property
    def database(self) -> str | None:
        """The open database's type, e.g. GeoLite2-City."""
        return self._reader.metadata().database_type if self._reader else None

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def place(self, ip: str) -> Place:
        addr = parse_address(ip)
        if addr is None:
            return Place.UNKNOWN
        if addr.is_loopback:
            return Place(PlaceKind.LOOPBACK)
        if is_local(addr):
            return Place(PlaceKind.LOCAL_NETWORK)
        if self._reader is None:
            return Place.UNKNOWN
        try:
            found = self._reader.city(addr) if self._city else self._reader.country(addr)
        except (geoip2.errors.AddressNotFoundError, ValueError):
            return Place.UNKNOWN
        return _located(found)


def _located(found: geoip2.models.Country) -> Place:
    country = Names.of(found.country)
    code = found.country.iso_code or ""
    if not isinstance(found, geoip2.models.City):
        return Place(PlaceKind.LOCATED, code, country) if country or code else Place.UNKNOWN
    subdivisions = found.subdivisions
    region = Names.of(subdivisions[0]) if subdivisions else None
    city = Names.of(found.city)
    if not (country or code or city):
        return Place.UNKNOWN
    return Place(PlaceKind.LOCATED, code, country, region, city, found.city.geoname_id)
