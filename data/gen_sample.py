#!/usr/bin/env python3
"""Generate the committed sample dataset of origintrace (data/sample/*.csv).

The dataset tells the motivating story of SPEC §1: North-Korean (KP) wigs, false eyelashes and processed hair
enter China through Liaoning and Jilin border traders and through outward-processing contracts, are worked into
"Made in China" goods by wig makers in Xuchang (Henan, CN-HA) and eyelash makers in Pingdu (Shandong, CN-SD),
and are shipped to importers in the United States and elsewhere. Raw hair from India, Myanmar, Viet Nam and
Pakistan is the clean input; a Zhejiang (CN-ZJ) wig maker buying only declared Indian/Vietnamese hair is the
clean control chain.

Everything is deterministic: standard library only, fixed seeds, no set iteration, no clock. Running the
script twice gives byte-identical files. All company names are fictional. See data/README.md for which
figures are sourced and which are synthetic.

Usage: python3 data/gen_sample.py            (writes data/sample/ next to this script and prints a summary)
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import math
import random
import sys
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from statistics import median

SEED = 20230415
OUT = Path(__file__).resolve().parent / "sample"
LAG_DAYS = 180
SANCTIONED = ("KP",)
HS_INPUTS = {"6704": ("0501", "6703", "6704"), "6703": ("0501", "6703")}
FIRST_DAY = dt.date(2022, 10, 1)
LAST_DAY = dt.date(2023, 12, 31)

CENT = Decimal("0.01")


def rng_for(section: str) -> random.Random:
    """One independent, seeded generator per section, so tuning one section never reshuffles another."""
    return random.Random(f"{SEED}:{section}")


def money(x) -> Decimal:
    return Decimal(x).quantize(CENT, rounding=ROUND_HALF_UP)


def fmt_money(d: Decimal) -> str:
    return str(money(d))


def months(first: tuple[int, int], last: tuple[int, int]) -> list[tuple[int, int]]:
    y, m = first
    out = []
    while (y, m) <= last:
        out.append((y, m))
        m += 1
        if m == 13:
            y, m = y + 1, 1
    return out


def period(y: int, m: int) -> str:
    return f"{y:04d}-{m:02d}"


def rand_day(rng: random.Random, y: int, m: int, lo: int = 1, hi: int | None = None) -> dt.date:
    last = calendar.monthrange(y, m)[1]
    return dt.date(y, m, rng.randint(lo, min(hi or last, last)))


# ----------------------------------------------------------------------------------------------------------
# Rates (synthetic, rounded to be close to 2022-2023 monthly averages)
# ----------------------------------------------------------------------------------------------------------

RATE_MONTHS = months((2022, 10), (2023, 12))
CNY_PER_USD = [7.10, 7.17, 6.98, 6.78, 6.86, 6.90, 6.89, 6.98, 7.18, 7.20, 7.26, 7.30, 7.31, 7.22, 7.12]
USD_PER_EUR = [0.9835, 1.0206, 1.0593, 1.0785, 1.0715, 1.0706, 1.0968, 1.0868, 1.0840, 1.1058, 1.0909,
               1.0684, 1.0563, 1.0808, 1.0903]
RATES: dict[tuple[str, str], Decimal] = {}
for (y, m), cny, eur in zip(RATE_MONTHS, CNY_PER_USD, USD_PER_EUR):
    RATES[("CNY", period(y, m))] = (Decimal(1) / Decimal(str(cny))).quantize(Decimal("0.000001"), ROUND_HALF_UP)
    RATES[("EUR", period(y, m))] = Decimal(str(eur)).quantize(Decimal("0.000001"), ROUND_HALF_UP)


def to_usd(value: Decimal, currency: str, date: dt.date) -> Decimal:
    if currency in ("", "USD"):
        return value
    return value * RATES[(currency, period(date.year, date.month))]


# ----------------------------------------------------------------------------------------------------------
# Parties (all fictional)
# ----------------------------------------------------------------------------------------------------------

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def uscc(rng: random.Random, admin: str) -> str:
    """An 18-character unified social credit code shape (GB 32100-2015), with a valid final check character.
    Fictional: generated, not looked up."""
    body = "91" + admin + "MA" + "".join(rng.choice(USCC_CHARS) for _ in range(7))
    assert len(body) == 17
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(body, USCC_WEIGHTS))
    return body + USCC_CHARS[(31 - total % 31) % 31]


# id, name, country, region, city, aliases, identifier scheme (uscc admin code | duns | iec | ""), role
PARTY_SPECS = [
    # North Korea: the sanctioned sources (no region: KP subdivisions are not used in this dataset)
    ("ryonhwa-coop", "Pyongyang Ryonhwa Hair Processing Cooperative", "KP", "", "Pyongyang",
     "Ryonhwa Hair Cooperative;Ryonhwa Hair Craft Co.", "", "KP hair-processing cooperative"),
    ("haebit-lash", "Sinuiju Haebit Eyelash Workshop", "KP", "", "Sinuiju", "Haebit Eyelash Works", "",
     "KP eyelash workshop"),
    ("kumbit-factory", "Sinuiju Kumbit Hair Processing Factory", "KP", "", "Sinuiju", "", "",
     "KP outward-processing contractor"),
    ("chongbong-trading", "Korea Chongbong General Trading Corporation", "KP", "", "Rason",
     "Chongbong Trading Corp.", "", "KP exporter via Jilin"),
    # Border traders
    ("dandong-riverside", "Dandong Riverside Trading Co., Ltd.", "CN", "CN-LN", "Dandong",
     "Riverside Trading (Dandong)", "uscc:210600", "border trader"),
    ("dandong-greenbank", "Dandong Greenbank Border Trade Co., Ltd.", "CN", "CN-LN", "Dandong", "",
     "uscc:210600", "border trader"),
    ("dandong-northgate", "Dandong Northgate Commerce Co., Ltd.", "CN", "CN-LN", "Dandong", "",
     "uscc:210600", "trader (Hong Kong hair)"),
    ("hunchun-eastwind", "Hunchun Eastwind Border Trading Co., Ltd.", "CN", "CN-JL", "Hunchun", "",
     "uscc:222404", "border trader"),
    ("yanji-pinecrest", "Yanji Pinecrest Trading Co., Ltd.", "CN", "CN-JL", "Yanji", "", "uscc:222401",
     "border trader"),
    # Xuchang wig makers (Henan)
    ("xuchang-silkwave", "Xuchang Silkwave Hair Products Co., Ltd.", "CN", "CN-HA", "Xuchang",
     "Silkwave Hair;Xuchang Silkwave Wigs", "uscc:411000", "wig maker"),
    ("xuchang-goldcomb", "Xuchang Goldcomb Wig Manufacturing Co., Ltd.", "CN", "CN-HA", "Xuchang", "",
     "uscc:411000", "wig maker"),
    ("xuchang-velvetcrown", "Xuchang Velvetcrown Hair Arts Co., Ltd.", "CN", "CN-HA", "Xuchang", "",
     "uscc:411000", "wig maker"),
    ("xuchang-brightmane", "Xuchang Brightmane Hair Co., Ltd.", "CN", "CN-HA", "Xuchang", "Brightmane Wigs",
     "uscc:411000", "wig maker (outward processing)"),
    ("xuchang-featherlock", "Xuchang Featherlock Wig Co., Ltd.", "CN", "CN-HA", "Xuchang", "",
     "uscc:411000", "wig maker (no supplier records)"),
    ("xuchang-moonbraid", "Xuchang Moonbraid Hair Co., Ltd.", "CN", "CN-HA", "Xuchang", "", "uscc:411000",
     "wig maker"),
    ("xuchang-pearlstrand", "Xuchang Pearlstrand Wig Co., Ltd.", "CN", "CN-HA", "Xuchang", "",
     "uscc:411000", "wig maker"),
    ("xuchang-jadebraid", "Xuchang Jadebraid Hair Products Co., Ltd.", "CN", "CN-HA", "Xuchang", "",
     "uscc:411000", "wig maker (no shipments on file)"),
    # Pingdu / Qingdao eyelash makers (Shandong)
    ("pingdu-lashline", "Pingdu Lashline Cosmetics Co., Ltd.", "CN", "CN-SD", "Pingdu", "Lashline Cosmetics",
     "uscc:370283", "eyelash maker"),
    ("pingdu-softwink", "Pingdu Softwink Eyelash Co., Ltd.", "CN", "CN-SD", "Pingdu", "", "uscc:370283",
     "eyelash maker (declares a KP input)"),
    ("pingdu-starflutter", "Pingdu Starflutter Lash Products Co., Ltd.", "CN", "CN-SD", "Pingdu", "",
     "uscc:370283", "eyelash maker"),
    ("pingdu-dawnlash", "Pingdu Dawnlash Handicrafts Co., Ltd.", "CN", "CN-SD", "Pingdu", "", "uscc:370283",
     "eyelash maker"),
    ("pingdu-featherwink", "Pingdu Featherwink Lash Factory", "CN", "CN-SD", "Pingdu", "", "uscc:370283",
     "eyelash maker (no shipments on file)"),
    ("qingdao-seabreeze", "Qingdao Seabreeze Lash Export Co., Ltd.", "CN", "CN-SD", "Qingdao", "",
     "uscc:370200", "export trading company"),
    # Zhejiang clean control
    ("yiwu-clearbrook", "Yiwu Clearbrook Wig Co., Ltd.", "CN", "CN-ZJ", "Yiwu", "Clearbrook Wigs",
     "uscc:330782", "wig maker (clean control)"),
    # Hong Kong (transit partner)
    ("kowloon-harbourlight", "Kowloon Harbourlight Trading Limited", "HK", "", "Hong Kong", "", "",
     "hair re-exporter (origin unknown)"),
    # Raw-hair suppliers
    ("chennai-sunthread", "Chennai Sunthread Hair Exports Pvt. Ltd.", "IN", "", "Chennai", "", "iec",
     "raw-hair supplier"),
    ("kolkata-rivermane", "Kolkata Rivermane Hair Traders Pvt. Ltd.", "IN", "", "Kolkata", "", "iec",
     "raw-hair supplier"),
    ("bengaluru-templebloom", "Bengaluru Templebloom Hair Exports Pvt. Ltd.", "IN", "", "Bengaluru", "",
     "iec", "raw-hair supplier"),
    ("tirupati-saffronlock", "Tirupati Saffronlock Hair Co.", "IN", "", "Tirupati", "", "iec",
     "raw-hair supplier"),
    ("yangon-goldenstrand", "Yangon Goldenstrand Hair Trading Co., Ltd.", "MM", "", "Yangon", "", "",
     "raw-hair supplier"),
    ("mandalay-silkroot", "Mandalay Silkroot Hair Co., Ltd.", "MM", "", "Mandalay", "", "",
     "raw-hair supplier"),
    ("hanoi-longtress", "Hanoi Longtress Hair Co., Ltd.", "VN", "", "Hanoi", "", "", "raw-hair supplier"),
    ("saigon-lotusveil", "Saigon Lotusveil Hair JSC", "VN", "", "Ho Chi Minh City", "Lotusveil Hair", "",
     "raw-hair supplier"),
    ("haiphong-silverfall", "Haiphong Silverfall Hair Co., Ltd.", "VN", "", "Hai Phong", "", "",
     "raw-hair supplier"),
    ("lahore-fineweave", "Lahore Fineweave Hair Traders (Pvt) Ltd.", "PK", "", "Lahore", "", "",
     "raw-hair supplier (no declaration)"),
    # Importers
    ("brightlash-beauty", "Brightlash Beauty Inc.", "US", "US-NY", "New York", "Brightlash", "duns",
     "importer"),
    ("crownline-hair", "Crownline Hair Imports, LLC", "US", "US-GA", "Atlanta", "", "duns", "importer"),
    ("lushcurl-beauty", "Lushcurl Beauty Supply Corp.", "US", "US-TX", "Houston", "", "duns", "importer"),
    ("goldenreed-wigs", "Goldenreed Wig Distributors Inc.", "US", "US-CA", "Los Angeles", "", "duns",
     "importer"),
    ("starlit-harbor-lash", "Starlit Harbor Lash Co.", "US", "US-NJ", "Newark", "", "duns", "importer"),
    ("gracefall-hair", "Gracefall Hair Imports, Inc.", "US", "US-IL", "Chicago", "", "duns", "importer"),
    ("evenkeel-hair", "Evenkeel Hair Co.", "US", "US-CA", "Oakland", "", "duns", "importer (clean control)"),
    ("queensbridge-beauty", "Queensbridge Beauty Wholesale Corp.", "US", "US-NY", "New York", "", "duns",
     "importer"),
    ("ridgeview-salon", "Ridgeview Salon Supply, Inc.", "US", "US-TX", "Dallas", "", "duns", "importer"),
    ("tidewater-tresses", "Tidewater Tresses LLC", "US", "US-GA", "Savannah", "", "duns", "importer"),
    ("harborline-beauty", "Harborline Beauty Supply, Inc.", "US", "US-NJ", "Jersey City", "", "duns",
     "importer"),
    ("camden-tresses", "Camden Tresses Ltd.", "GB", "", "London", "", "", "importer"),
    ("brixwell-hair", "Brixwell Hair & Beauty Ltd.", "GB", "", "Birmingham", "", "", "importer"),
    ("lagos-crownglory", "Lagos Crownglory Hair Enterprises Ltd.", "NG", "", "Lagos", "", "", "importer"),
    ("abuja-silverbraid", "Abuja Silverbraid Ventures Ltd.", "NG", "", "Abuja", "", "", "importer"),
    ("accra-kentecrown", "Accra Kentecrown Hair Ltd.", "GH", "", "Accra", "", "", "importer"),
    ("joburg-braidhouse", "Johannesburg Braidhouse (Pty) Ltd.", "ZA", "", "Johannesburg", "", "", "importer"),
    ("osaka-hanabira", "Osaka Hanabira Wig K.K.", "JP", "", "Osaka", "", "", "importer"),
    ("busan-clearwave", "Busan Clearwave Beauty Co., Ltd.", "KR", "", "Busan", "", "", "importer"),
    ("rheinlocke-haarmoden", "Rheinlocke Haarmoden GmbH", "DE", "", "Cologne", "", "", "importer"),
    ("maison-bouclette", "Maison Bouclette SARL", "FR", "", "Paris", "", "", "importer"),
    ("maplecurl-beauty", "Maplecurl Beauty Imports Ltd.", "CA", "", "Toronto", "", "", "importer"),
    ("dubai-silkroute", "Dubai Silkroute Hair Trading LLC", "AE", "", "Dubai", "", "", "importer"),
    ("sydney-wattle", "Sydney Wattle Wigs Pty Ltd", "AU", "", "Sydney", "", "", "importer"),
    ("toronto-northbraid", "Northbraid Hair Supply Inc.", "CA", "", "Toronto", "", "", "importer"),
    # Last, and without an identifier, so that no other party's random identifiers change.
    ("xuchang-lotusbraid", "Xuchang Lotusbraid Wig Co., Ltd.", "CN", "CN-HA", "Xuchang", "", "",
     "wig maker (bought a KP lot once, 215 days before its next export)"),
]


def build_parties() -> list[dict]:
    rng = rng_for("parties")
    out = []
    for pid, name, country, region, city, aliases, ident, role in PARTY_SPECS:
        identifiers = ""
        if ident.startswith("uscc:"):
            identifiers = "uscc:" + uscc(rng, ident.split(":", 1)[1])
        elif ident == "duns":
            identifiers = f"duns:{rng.randint(10**8, 10**9 - 1)}"
        elif ident == "iec":
            identifiers = f"iec:{rng.randint(10**9, 10**10 - 1)}"
        out.append({"party_id": pid, "name": name, "country": country, "region": region, "city": city,
                    "aliases": aliases, "identifiers": identifiers, "_role": role})
    # A second scheme for two parties, to exercise `;`-separated identifiers.
    for p in out:
        if p["party_id"] in ("xuchang-silkwave", "pingdu-lashline"):
            p["identifiers"] += f";duns:{rng.randint(10**8, 10**9 - 1)}"
    return out


PARTIES = build_parties()
PARTY = {p["party_id"]: p for p in PARTIES}


# ----------------------------------------------------------------------------------------------------------
# Shipments
# ----------------------------------------------------------------------------------------------------------

# Unit values in USD per kg by HS6 (synthetic; 670420 ~ $374/kg is 11.22M / 30 t of the April 2023 story).
VPK = {
    "050100": (55, 110),
    "670300": (140, 240),
    "670420": (300, 440),
    "670419": (45, 75),
    "670490": (70, 120),
}
DESC = {
    "050100": ["Human hair, unworked, washed and scoured", "Raw human hair, unworked (temple hair)",
               "Human hair, unworked, in bundles"],
    "670300": ["Human hair, dressed, thinned and bleached, for wig making", "Human hair, drawn and dressed",
               "Processed human hair for wig making"],
    "670420": ["Human hair wigs, lace front", "Human hair wigs and toupees", "Human hair false eyelashes, strip",
               "Semi-finished human hair wig caps", "Human hair false eyelashes, 3D strip lashes"],
    "670419": ["Synthetic fibre false eyelashes", "Synthetic eyelash extensions, trays"],
    "670490": ["Wigs and hairpieces of other materials", "Braiding hair pieces, other materials"],
}
LASH_MAKERS = ("pingdu-lashline", "pingdu-softwink", "pingdu-starflutter", "pingdu-dawnlash",
               "qingdao-seabreeze", "haebit-lash", "dandong-greenbank")

PORT_OF_DEST = {
    "brightlash-beauty": "New York/Newark", "crownline-hair": "Savannah", "lushcurl-beauty": "Houston",
    "goldenreed-wigs": "Los Angeles", "starlit-harbor-lash": "New York/Newark", "gracefall-hair": "Chicago",
    "evenkeel-hair": "Oakland", "queensbridge-beauty": "New York/Newark", "ridgeview-salon": "Houston",
    "tidewater-tresses": "Savannah", "harborline-beauty": "New York/Newark", "camden-tresses": "Felixstowe",
    "brixwell-hair": "Felixstowe", "lagos-crownglory": "Lagos (Apapa)", "abuja-silverbraid": "Lagos (Tin Can)",
    "accra-kentecrown": "Tema", "joburg-braidhouse": "Durban", "osaka-hanabira": "Osaka",
    "busan-clearwave": "Busan", "rheinlocke-haarmoden": "Hamburg", "maison-bouclette": "Le Havre",
    "maplecurl-beauty": "Vancouver", "dubai-silkroute": "Jebel Ali", "sydney-wattle": "Sydney",
    "toronto-northbraid": "Vancouver",
}
PORT_OF_ORIGIN = {
    "chennai-sunthread": "Chennai", "kolkata-rivermane": "Kolkata", "bengaluru-templebloom": "Chennai",
    "tirupati-saffronlock": "Chennai", "yangon-goldenstrand": "Yangon", "mandalay-silkroot": "Yangon",
    "hanoi-longtress": "Hai Phong", "saigon-lotusveil": "Ho Chi Minh City", "haiphong-silverfall": "Hai Phong",
    "lahore-fineweave": "Karachi", "kowloon-harbourlight": "Hong Kong",
}


class Ship(dict):
    """A shipment row under construction; keys starting with `_` are internal and never written."""


def make_ship(rng, date, shipper, consignee, hs, usd, *, origin="", desc=None, pl="", pu="", weight=None,
              tag="", currency="USD", with_weight=True) -> Ship:
    usd = money(usd)
    if weight is None:
        lo, hi = VPK[hs]
        weight = (usd / Decimal(str(rng.uniform(lo, hi)))).quantize(Decimal("0.1"), ROUND_HALF_UP)
    if hs in ("050100", "670300"):
        qty, unit = weight.quantize(Decimal("1"), ROUND_HALF_UP), "kg"
    elif shipper in LASH_MAKERS or consignee in ("pingdu-lashline", "pingdu-dawnlash"):
        qty, unit = (weight / Decimal("0.004")).quantize(Decimal("1"), ROUND_HALF_UP), "pairs"
    else:
        qty, unit = (weight / Decimal("0.22")).quantize(Decimal("1"), ROUND_HALF_UP), "pcs"
    if desc is None:
        choices = DESC[hs]
        if hs == "670420":
            lash = shipper in LASH_MAKERS or consignee in LASH_MAKERS
            choices = [d for d in choices if ("lash" in d) == lash]
        desc = rng.choice(choices)
    if currency == "USD":
        value = usd
    else:
        value = money(usd / RATES[(currency, period(date.year, date.month))])
    return Ship(date=date, shipper=shipper, consignee=consignee, hs_code=hs, value=value, currency=currency,
                quantity=qty, unit=unit, weight_kg=weight if with_weight else None, origin_country=origin,
                description=desc, port_lading=pl, port_unlading=pu, _usd=usd, _tag=tag)


def round10(x: float) -> int:
    return int(round(x / 10.0)) * 10


def build_shipments() -> list[Ship]:
    ships: list[Ship] = []
    ship_months = months((2022, 10), (2023, 12))

    # 1. KP lots to border traders ------------------------------------------------------------------------
    rng = rng_for("kp-lots")
    lots = []  # (ship, resale buyers with weights)
    for i, (y, m) in enumerate(ship_months):
        plan = [("ryonhwa-coop", "dandong-riverside", 2), ("ryonhwa-coop", "hunchun-eastwind", 1),
                ("haebit-lash", "dandong-greenbank", 1)]
        if i % 2 == 0:
            plan.append(("chongbong-trading", "yanji-pinecrest", 1))
        for shipper, trader, n in plan:
            for _ in range(n):
                if trader == "dandong-riverside":
                    hs = "670420" if rng.random() < 0.75 else "670300"
                elif trader == "yanji-pinecrest":
                    hs = "670300"
                else:
                    hs = "670420"
                usd = round10(rng.uniform(45000, 175000))
                origin = "KP" if rng.random() < 0.3 else ""
                if trader.startswith("dandong"):
                    pl, pu = "Sinuiju", "Dandong"
                elif trader == "hunchun-eastwind":
                    pl, pu = "Rajin", "Hunchun"
                else:
                    pl, pu = "Namyang", "Tumen"
                s = make_ship(rng, rand_day(rng, y, m, 1, 20), shipper, trader, hs, usd, origin=origin,
                              pl=pl, pu=pu, tag="kp-lot")
                ships.append(s)
                lots.append(s)

    # 2. Traders resell each lot to makers (same goods, same weight, a trading margin) ---------------------
    rng = rng_for("resales")
    buyers = {
        ("dandong-riverside", "670420"): [("xuchang-silkwave", 0.55), ("pingdu-lashline", 0.25),
                                         ("xuchang-moonbraid", 0.20)],
        ("dandong-riverside", "670300"): [("xuchang-silkwave", 0.6), ("xuchang-moonbraid", 0.4)],
        ("hunchun-eastwind", "670420"): [("xuchang-goldcomb", 0.7), ("xuchang-silkwave", 0.3)],
        ("dandong-greenbank", "670420"): [("pingdu-lashline", 0.7), ("pingdu-dawnlash", 0.3)],
        ("yanji-pinecrest", "670300"): [("xuchang-goldcomb", 1.0)],
    }
    resales = []
    for lot in lots:
        trader, hs = lot["consignee"], lot["hs_code"]
        names, weights = zip(*buyers[(trader, hs)])
        buyer = rng.choices(names, weights)[0]
        date = lot["date"] + dt.timedelta(days=rng.randint(6, 28))
        usd = round10(float(lot["_usd"]) * rng.uniform(1.10, 1.20))
        if date > LAST_DAY:
            continue
        s = make_ship(rng, date, trader, buyer, hs, usd, weight=lot["weight_kg"], pl=PARTY[trader]["city"],
                      pu="", tag="resale")
        ships.append(s)
        resales.append(s)
    # A few resales declare origin CN although the goods are the KP lot just bought: origin-mislabel.
    pool = [s for s in resales if s["shipper"] in ("dandong-riverside", "hunchun-eastwind", "dandong-greenbank")
            and dt.date(2023, 2, 1) <= s["date"] <= dt.date(2023, 11, 30)]
    for s in rng.sample(pool, 5):
        s["origin_country"] = "CN"
        s["_tag"] = "mislabel"
    # A handful of domestic resales are invoiced in CNY; one of them without a weight.
    rest = [s for s in resales if s["_tag"] == "resale"]
    for j, s in enumerate(rng.sample(rest, 6)):
        usd = s["_usd"]
        s["currency"] = "CNY"
        s["value"] = money(usd / RATES[("CNY", period(s["date"].year, s["date"].month))])
        if j == 0:
            s["weight_kg"] = None

    # 3. Hong Kong hair through a Dandong trader, and straight to a Xuchang maker (origin unknown) ---------
    rng = rng_for("hk")
    for i, (y, m) in enumerate(ship_months):
        if i % 2 == 0:
            usd = round10(rng.uniform(30000, 90000))
            a = make_ship(rng, rand_day(rng, y, m, 1, 15), "kowloon-harbourlight", "dandong-northgate", "670300",
                          usd, pl="Hong Kong", pu="Dalian", tag="hk")
            ships.append(a)
            d2 = a["date"] + dt.timedelta(days=rng.randint(8, 20))
            if d2 <= LAST_DAY:
                ships.append(make_ship(rng, d2, "dandong-northgate", "xuchang-moonbraid", "670300",
                                       round10(usd * rng.uniform(1.08, 1.15)), weight=a["weight_kg"],
                                       pl="Dandong", tag="hk-resale"))
        else:
            usd = round10(rng.uniform(30000, 110000))
            ships.append(make_ship(rng, rand_day(rng, y, m), "kowloon-harbourlight", "xuchang-goldcomb", "670300",
                                   usd, pl="Hong Kong", pu="Zhengzhou", tag="hk"))

    # 4. Raw hair from IN / MM / VN / PK (declared own-country origin) -------------------------------------
    rng = rng_for("raw-hair")
    # shipper, consignee, hs, every n months, offset, lo, hi, port of unlading
    plan = [
        ("chennai-sunthread", "xuchang-silkwave", "050100", 1, 0, 60000, 190000, "Qingdao"),
        ("chennai-sunthread", "xuchang-brightmane", "670300", 3, 1, 40000, 120000, "Tianjin"),
        ("kolkata-rivermane", "xuchang-brightmane", "050100", 2, 0, 90000, 260000, "Tianjin"),
        ("yangon-goldenstrand", "xuchang-goldcomb", "050100", 1, 0, 60000, 200000, "Qingdao"),
        ("mandalay-silkroot", "xuchang-velvetcrown", "050100", 2, 0, 90000, 250000, "Qingdao"),
        ("mandalay-silkroot", "pingdu-lashline", "050100", 3, 2, 25000, 80000, "Qingdao"),
        ("hanoi-longtress", "xuchang-velvetcrown", "670300", 2, 1, 90000, 260000, "Qingdao"),
        ("hanoi-longtress", "yiwu-clearbrook", "670300", 2, 0, 40000, 110000, "Ningbo"),
        ("lahore-fineweave", "xuchang-velvetcrown", "050100", 2, 1, 20000, 70000, "Tianjin"),
        ("saigon-lotusveil", "pingdu-lashline", "670300", 2, 1, 30000, 90000, "Qingdao"),
        ("saigon-lotusveil", "pingdu-softwink", "050100", 1, 0, 40000, 130000, "Qingdao"),
        ("saigon-lotusveil", "pingdu-starflutter", "670300", 2, 1, 70000, 230000, "Qingdao"),
        ("bengaluru-templebloom", "pingdu-starflutter", "050100", 2, 0, 30000, 90000, "Qingdao"),
        ("bengaluru-templebloom", "yiwu-clearbrook", "050100", 1, 0, 60000, 180000, "Ningbo"),
        ("tirupati-saffronlock", "xuchang-pearlstrand", "050100", 2, 0, 50000, 140000, "Qingdao"),
        ("yangon-goldenstrand", "pingdu-dawnlash", "050100", 2, 1, 40000, 120000, "Qingdao"),
        ("haiphong-silverfall", "xuchang-pearlstrand", "670300", 2, 1, 40000, 120000, "Qingdao"),
    ]
    for i, (y, m) in enumerate(ship_months):
        for shipper, consignee, hs, every, off, lo, hi, pu in plan:
            if i % every != off:
                continue
            usd = round10(rng.uniform(lo, hi))
            ships.append(make_ship(rng, rand_day(rng, y, m), shipper, consignee, hs, usd,
                                   origin=PARTY[shipper]["country"], pl=PORT_OF_ORIGIN[shipper], pu=pu, tag="raw"))
    # The control's first inputs arrive early in October 2022, before any of its outputs.
    for s in ships:
        if s["consignee"] == "yiwu-clearbrook" and s["date"] < dt.date(2022, 11, 1):
            s["date"] = dt.date(2022, 10, 3 if s["shipper"] == "hanoi-longtress" else 5)

    # 5. Outward processing: Brightmane sends hair to a KP factory, wigs come back -------------------------
    rng = rng_for("outward")
    for i, (y, m) in enumerate(ship_months):
        hs = "050100" if i % 2 == 0 else "670300"
        usd = round10(rng.uniform(35000, 85000))
        out = make_ship(rng, rand_day(rng, y, m, 2, 12), "xuchang-brightmane", "kumbit-factory", hs, usd,
                        desc="Human hair sent for processing under outward-processing contract",
                        pl="Dandong", pu="Sinuiju", tag="outward")
        ships.append(out)
        back = out["date"] + dt.timedelta(days=rng.randint(25, 45))
        if back <= LAST_DAY:
            ships.append(make_ship(rng, back, "kumbit-factory", "xuchang-brightmane", "670420",
                                   round10(usd * rng.uniform(1.7, 2.3)), origin="KP" if i % 2 else "",
                                   desc="Human hair wigs returned after outward processing",
                                   pl="Sinuiju", pu="Dandong", tag="return"))

    # 6. Makers' outputs -----------------------------------------------------------------------------------
    rng = rng_for("outputs")
    makers = [
        # id, customers (weights), hs6 mix, markup on inputs, base per month (USD), lading ports
        ("xuchang-silkwave", [("brightlash-beauty", 3), ("crownline-hair", 2), ("lagos-crownglory", 1.5),
                              ("camden-tresses", 1), ("queensbridge-beauty", 1), ("osaka-hanabira", 0.5)],
         [("670420", 0.85), ("670490", 0.15)], 1.9, 60000, ["Qingdao", "Tianjin", "Shanghai"]),
        ("xuchang-goldcomb", [("lushcurl-beauty", 3), ("goldenreed-wigs", 2.5), ("abuja-silverbraid", 1.5),
                              ("brixwell-hair", 1), ("joburg-braidhouse", 1), ("maplecurl-beauty", 1)],
         [("670420", 0.8), ("670490", 0.2)], 1.7, 60000, ["Qingdao", "Tianjin"]),
        ("xuchang-velvetcrown", [("gracefall-hair", 3), ("queensbridge-beauty", 2), ("lagos-crownglory", 2),
                                 ("accra-kentecrown", 1.5), ("maison-bouclette", 1.5)],
         [("670420", 0.9), ("670490", 0.1)], 1.45, 40000, ["Qingdao", "Zhengzhou"]),
        ("xuchang-brightmane", [("crownline-hair", 4), ("tidewater-tresses", 2), ("dubai-silkroute", 2),
                                ("abuja-silverbraid", 2)],
         [("670420", 1.0)], 1.6, 40000, ["Tianjin", "Qingdao"]),
        ("xuchang-featherlock", [("goldenreed-wigs", 5), ("ridgeview-salon", 3), ("camden-tresses", 2)],
         [("670420", 0.7), ("670490", 0.3)], 0.0, 230000, ["Qingdao", "Shanghai"]),
        ("xuchang-moonbraid", [("lushcurl-beauty", 5), ("lagos-crownglory", 5)],
         [("670420", 1.0)], 2.3, 40000, ["Tianjin"]),
        ("xuchang-pearlstrand", [("ridgeview-salon", 5), ("sydney-wattle", 5)],
         [("670420", 1.0)], 1.45, 30000, ["Qingdao"]),
        ("pingdu-lashline", [("brightlash-beauty", 4), ("qingdao-seabreeze", 3), ("busan-clearwave", 1.5),
                             ("osaka-hanabira", 1.5)],
         [("670420", 0.6), ("670419", 0.4)], 1.9, 50000, ["Qingdao"]),
        ("pingdu-softwink", [("starlit-harbor-lash", 5), ("brixwell-hair", 2), ("rheinlocke-haarmoden", 1.5),
                             ("maplecurl-beauty", 1.5)],
         [("670420", 0.5), ("670419", 0.5)], 1.4, 40000, ["Qingdao"]),
        ("pingdu-starflutter", [("qingdao-seabreeze", 4), ("starlit-harbor-lash", 3), ("busan-clearwave", 3)],
         [("670420", 0.5), ("670419", 0.5)], 1.4, 30000, ["Qingdao"]),
        ("pingdu-dawnlash", [("brightlash-beauty", 6), ("maison-bouclette", 4)],
         [("670420", 1.0)], 2.3, 30000, ["Qingdao"]),
        ("yiwu-clearbrook", [("evenkeel-hair", 1)], [("670420", 1.0)], 1.35, 20000, ["Ningbo"]),
        # last: its inputs are the Pingdu makers' outputs above
        ("qingdao-seabreeze", [("brightlash-beauty", 4), ("starlit-harbor-lash", 3), ("harborline-beauty", 3)],
         [("670420", 0.5), ("670419", 0.5)], 1.3, 0, ["Qingdao"]),
    ]
    out_months = months((2022, 10), (2023, 12))
    for maker, customers, hs_mix, markup, base, ports in makers:
        inflow = defaultdict(Decimal)
        for s in ships:
            if s["consignee"] == maker:
                inflow[(s["date"].year, s["date"].month)] += s["_usd"]
        carry = 0.0
        prev = (2022, 10)  # the first month counts its own inputs twice (steady state)
        for (y, m) in out_months:
            carry += markup * float(inflow[prev] + inflow[(y, m)]) / 2 + base * rng.uniform(0.8, 1.2)
            prev = (y, m)
            if carry < 200000 and (y, m) != out_months[-1]:
                continue  # a small maker ships every other month or so
            total, carry = carry, 0.0
            n = max(1, math.ceil(total / 380000))
            parts = [rng.uniform(0.7, 1.3) for _ in range(n)]
            scale = total / sum(parts)
            names, weights = zip(*customers)
            hs_names, hs_weights = zip(*hs_mix)
            for p in parts:
                usd = round10(min(max(p * scale, 30000), 500000))
                cons = rng.choices(names, weights)[0]
                hs = rng.choices(hs_names, hs_weights)[0]
                domestic = PARTY[cons]["country"] == "CN"
                lo_day = 10 if maker == "yiwu-clearbrook" and (y, m) == (2022, 10) else 1
                s = make_ship(rng, rand_day(rng, y, m, lo_day), maker, cons, hs, usd,
                              origin="" if domestic else "CN",
                              pl=PARTY[maker]["city"] if domestic else rng.choice(ports),
                              pu="Qingdao" if domestic else PORT_OF_DEST[cons],
                              tag="domestic" if domestic else "export")
                ships.append(s)
    # Domestic sales to the Qingdao exporter are invoiced in CNY (two of them); three EU sales in EUR.
    rng = rng_for("currencies")
    dom = [s for s in ships if s["_tag"] == "domestic"]
    for s in rng.sample(dom, 2):
        s["currency"] = "CNY"
        s["value"] = money(s["_usd"] / RATES[("CNY", period(s["date"].year, s["date"].month))])
    eu = [s for s in ships if s["consignee"] in ("rheinlocke-haarmoden", "maison-bouclette")]
    for s in rng.sample(eu, 3):
        s["currency"] = "EUR"
        s["value"] = money(s["_usd"] / RATES[("EUR", period(s["date"].year, s["date"].month))])
    # A few other rows without a weight (weight is optional; low-price needs it).
    for s in rng.sample([s for s in ships if s["_tag"] in ("export", "raw")], 8):
        s["weight_kg"] = None

    # 7. Two wig shipments at an abnormally low declared value per kg (low-price) ---------------------------
    rng = rng_for("low-price")
    ships.append(make_ship(rng, dt.date(2023, 8, 17), "xuchang-moonbraid", "lushcurl-beauty", "670420",
                           Decimal("41250"), weight=Decimal("460.0"), origin="CN",
                           desc="Human hair wigs, lace front", pl="Tianjin", pu="Houston", tag="low-price"))
    ships.append(make_ship(rng, dt.date(2023, 10, 9), "pingdu-dawnlash", "brightlash-beauty", "670420",
                           Decimal("36800"), weight=Decimal("310.0"), origin="CN",
                           desc="Human hair false eyelashes, strip", pl="Qingdao", pu="New York/Newark",
                           tag="low-price"))

    # Ids in date order, numbered per year.
    ships.sort(key=lambda s: (s["date"], s["shipper"], s["consignee"], s["hs_code"], s["_usd"]))
    counters = defaultdict(int)
    for s in ships:
        counters[s["date"].year] += 1
        s["shipment_id"] = f"SH-{s['date'].year}-{counters[s['date'].year]:04d}"

    # 8. A KP supplier outside the lag window (model v2, `sanctioned-counterparty`) -------------------------
    # `xuchang-lotusbraid` bought one lot from a KP cooperative on 2022-12-28, and exported wigs 215 days
    # later: outside the 180-day window, so nothing in its mix is documented-sanctioned, but inside
    # `counterparty_days` (730), so its export is flagged. Numbered apart (`-0900`) so that no other id moves.
    rng = rng_for("out-of-window")
    late = [
        make_ship(rng, dt.date(2022, 12, 28), "ryonhwa-coop", "xuchang-lotusbraid", "670420",
                  Decimal("84000"), origin="KP", desc="Human hair wigs and toupees", pl="Nampo",
                  pu="Dalian", tag="kp"),
        make_ship(rng, dt.date(2023, 7, 31), "xuchang-lotusbraid", "goldenreed-wigs", "670420",
                  Decimal("126400"), origin="CN", desc="Human hair wigs, lace front", pl="Qingdao",
                  pu="Los Angeles", tag="out-of-window"),
    ]
    for s in late:
        s["shipment_id"] = f"SH-{s['date'].year}-0900"
    ships.extend(late)
    return ships


# ----------------------------------------------------------------------------------------------------------
# Trade flows (reporter CN, by province)
# ----------------------------------------------------------------------------------------------------------

TF_MONTHS = months((2022, 11), (2023, 12))
# KP -> Henan imports of 670420 (USD). 2023-04 = 11,220,000 is the sourced figure; the rest is synthetic,
# shaped so that the 2023 KP total across provinces is of the order of the reported ~$167M for the year.
HA_KP = [6150000, 5870000, 2100000, 2900000, 5600000, 11220000, 6900000, 6100000, 6800000, 7400000, 7000000,
         6300000, 7900000, 8600000]
# April 2023 KP rows outside Henan (sum with Henan = 22,680,000, the sourced April total).
KP_OTHER_APRIL = [("CN-SD", "670420", 4650000, "processing"), ("CN-SD", "670419", 1480000, "processing"),
                  ("CN-LN", "670420", 2960000, "processing"), ("CN-LN", "670490", 640000, "processing"),
                  ("CN-JL", "670420", 1730000, "processing")]
SEASON = [0.92, 0.95, 0.85, 0.78, 1.00, 1.02, 1.05, 1.03, 1.00, 1.04, 1.06, 1.00, 1.08, 1.10]


def build_trade_flows() -> list[dict]:
    rng = rng_for("trade-flows")
    rows: list[dict] = []

    def add(per, region, partner, flow, hs, value, regime="general", price=None):
        qty = ""
        unit = ""
        if price is not None:
            qty = str(int(round(value / price)))
            unit = "kg"
        rows.append({"period": per, "reporter": "CN", "region": region, "partner": partner, "flow": flow,
                     "hs_code": hs, "value": Decimal(value), "currency": "USD", "quantity": qty, "unit": unit,
                     "regime": regime})

    def noisy(base, i, spread=0.06, step=1000):
        return int(round(base * SEASON[i] * rng.uniform(1 - spread, 1 + spread) / step)) * step

    # The yearly 2022 row for Henan's KP wig imports; the monthly Nov-Dec 2022 rows below supersede it.
    add("2022", "CN-HA", "KP", "import", "670420", 58400000, "outward-processing", price=360)

    april = TF_MONTHS.index((2023, 4))
    for i, (y, m) in enumerate(TF_MONTHS):
        per = period(y, m)
        # KP -> China wigs/lashes by province.
        if (y, m) == (2023, 4):
            rows.append({"period": per, "reporter": "CN", "region": "CN-HA", "partner": "KP", "flow": "import",
                         "hs_code": "670420", "value": Decimal(11220000), "currency": "USD", "quantity": "30000",
                         "unit": "kg", "regime": "outward-processing"})
        else:
            add(per, "CN-HA", "KP", "import", "670420", HA_KP[i], "outward-processing",
                price=rng.uniform(340, 400))
        ratio = HA_KP[i] / HA_KP[april]
        for region, hs, apr_value, regime in KP_OTHER_APRIL:
            v = apr_value if i == april else int(round(apr_value * ratio * rng.uniform(0.85, 1.15) / 10000)) * 10000
            price = {"670420": rng.uniform(330, 420), "670419": rng.uniform(50, 70), "670490": rng.uniform(80, 110)}[hs]
            add(per, region, "KP", "import", hs, v, regime, price=price)
        # Hair sent to KP for processing (outward processing).
        add(per, "CN-HA", "KP", "export", "050100", noisy(2200000, i, 0.15), "outward-processing", price=rng.uniform(60, 90))
        add(per, "CN-HA", "KP", "export", "670300", noisy(3100000, i, 0.15), "outward-processing", price=rng.uniform(150, 220))
        add(per, "CN-SD", "KP", "export", "670300", noisy(800000, i, 0.15), "outward-processing", price=rng.uniform(150, 220))
        add(per, "CN-LN", "KP", "export", "670300", noisy(500000, i, 0.15), "outward-processing", price=rng.uniform(150, 220))
        # Clean raw-hair imports.
        for region, partner, hs, base in [("CN-HA", "IN", "050100", 45000000), ("CN-HA", "MM", "050100", 20000000),
                                          ("CN-HA", "VN", "670300", 7000000), ("CN-HA", "PK", "050100", 4000000),
                                          ("CN-HA", "IN", "670300", 5000000), ("CN-SD", "IN", "050100", 6000000),
                                          ("CN-SD", "VN", "670300", 3000000), ("CN-SD", "MM", "050100", 2000000),
                                          ("CN-ZJ", "IN", "050100", 8000000), ("CN-ZJ", "VN", "670300", 2000000)]:
            price = rng.uniform(60, 100) if hs == "050100" else rng.uniform(150, 230)
            add(per, region, partner, "import", hs, noisy(base, i), price=price)
        # Transit partner (unknown origin) and re-imports.
        add(per, "CN-HA", "HK", "import", "670300", noisy(1500000, i, 0.2), price=rng.uniform(150, 230))
        add(per, "CN-SD", "HK", "import", "670420", noisy(400000, i, 0.2), price=rng.uniform(300, 420))
        if y == 2023 and m in (3, 6, 9, 12):
            add(per, "CN-HA", "CN", "import", "670420", noisy(600000, i, 0.2), price=rng.uniform(300, 420))
        if y == 2023 and m in (6, 12):
            add(per, "CN-SD", "CN", "import", "670419", noisy(200000, i, 0.2), price=rng.uniform(45, 70))
        # Exports of 6704 by province and partner.
        exports = [("CN-HA", "670420", [("US", 130e6), ("NG", 40e6), ("GB", 28e6), ("JP", 18e6), ("KR", 14e6),
                                        ("DE", 13e6), ("FR", 10e6)]),
                   ("CN-HA", "670490", [("US", 30e6), ("NG", 12e6)]),
                   ("CN-SD", "670420", [("US", 30e6), ("JP", 8e6), ("KR", 6e6), ("DE", 4e6), ("GB", 3e6),
                                        ("FR", 2.5e6)]),
                   ("CN-SD", "670419", [("US", 15e6), ("JP", 4e6), ("KR", 3e6)]),
                   ("CN-LN", "670420", [("KR", 2.0e6), ("JP", 1.5e6), ("US", 1.2e6)]),
                   ("CN-JL", "670420", [("KR", 1.5e6), ("JP", 0.6e6)]),
                   ("CN-ZJ", "670420", [("US", 22e6), ("GB", 5e6), ("DE", 4e6)])]
        for region, hs, partners in exports:
            for partner, base in partners:
                price = {"670420": rng.uniform(330, 450), "670419": rng.uniform(50, 70),
                         "670490": rng.uniform(80, 115)}[hs]
                add(per, region, partner, "export", hs, noisy(base, i), price=price)
    for k, r in enumerate(rows, 1):
        r["flow_id"] = f"TF-{k:05d}"
    return rows


# ----------------------------------------------------------------------------------------------------------
# Supplier links and watchlist
# ----------------------------------------------------------------------------------------------------------

LINKS = [
    # Raw-hair suppliers' own declarations of origin (certificates of origin).
    ("chennai-sunthread", "country:IN", "0501", "1", "", "", "certificate of origin file CO-IN-2023-014"),
    ("chennai-sunthread", "country:IN", "6703", "1", "", "", "certificate of origin file CO-IN-2023-014"),
    ("kolkata-rivermane", "country:IN", "0501", "1", "", "", "certificate of origin file CO-IN-2023-022"),
    ("bengaluru-templebloom", "country:IN", "0501", "1", "", "", "supplier declaration SD-2022-11"),
    ("tirupati-saffronlock", "country:IN", "0501", "1", "", "", "supplier declaration SD-2023-03"),
    ("yangon-goldenstrand", "country:MM", "0501", "1", "", "", "certificate of origin file CO-MM-2023-005"),
    ("mandalay-silkroot", "country:MM", "0501", "1", "", "", "certificate of origin file CO-MM-2023-009"),
    ("hanoi-longtress", "country:VN", "6703", "1", "", "", "supplier declaration SD-2022-10"),
    ("saigon-lotusveil", "country:VN", "0501", "1", "", "", "supplier declaration SD-2023-01"),
    ("saigon-lotusveil", "country:VN", "6703", "1", "", "", "supplier declaration SD-2023-01"),
    ("haiphong-silverfall", "country:VN", "6703", "1", "", "", "supplier declaration SD-2023-02"),
    # Xuchang wig makers.
    ("xuchang-silkwave", "chennai-sunthread", "0501", "0.5", "2022-07-01", "", "supplier questionnaire 2023-02"),
    ("xuchang-silkwave", "country:IN", "6703", "0.2", "2022-07-01", "", "supplier questionnaire 2023-02"),
    ("xuchang-goldcomb", "yangon-goldenstrand", "0501", "0.6", "", "", "supplier questionnaire 2023-02"),
    ("xuchang-goldcomb", "kowloon-harbourlight", "6703", "0.2", "", "", "supplier questionnaire 2023-02"),
    ("xuchang-velvetcrown", "hanoi-longtress", "6703", "0.3", "2022-07-01", "", "audit report AR-17"),
    ("xuchang-velvetcrown", "country:MM", "0501", "0.4", "2022-07-01", "2023-06-30", "audit report AR-17"),
    ("xuchang-velvetcrown", "mandalay-silkroot", "0501", "0.4", "2023-07-01", "", "supplier questionnaire 2023-07"),
    ("xuchang-velvetcrown", "lahore-fineweave", "0501", "0.2", "2022-07-01", "", "audit report AR-17"),
    ("xuchang-brightmane", "kolkata-rivermane", "0501", "0.7", "", "", "supplier questionnaire 2023-03"),
    ("xuchang-brightmane", "country:IN", "6703", "0.2", "", "", "supplier questionnaire 2023-03"),
    ("xuchang-pearlstrand", "tirupati-saffronlock", "0501", "0.5", "", "", "supplier questionnaire 2023-04"),
    ("xuchang-pearlstrand", "haiphong-silverfall", "6703", "0.5", "", "", "supplier questionnaire 2023-04"),
    # Pingdu / Qingdao eyelash makers.
    ("pingdu-lashline", "mandalay-silkroot", "0501", "0.3", "", "", "supplier questionnaire 2023-02"),
    ("pingdu-lashline", "saigon-lotusveil", "6703", "0.3", "", "", "supplier questionnaire 2023-02"),
    ("pingdu-softwink", "saigon-lotusveil", "0501", "0.5", "", "", "audit report AR-21"),
    ("pingdu-softwink", "country:KP", "6703", "0.2", "", "", "audit report AR-21"),
    ("pingdu-softwink", "country:MM", "0501", "0.3", "", "", "audit report AR-21"),
    ("pingdu-starflutter", "saigon-lotusveil", "6703", "0.6", "", "", "supplier questionnaire 2023-05"),
    ("pingdu-starflutter", "bengaluru-templebloom", "0501", "0.4", "", "", "supplier questionnaire 2023-05"),
    ("qingdao-seabreeze", "pingdu-lashline", "6704", "0.5", "", "", "purchase ledger review 2023-06"),
    ("qingdao-seabreeze", "pingdu-starflutter", "6704", "0.5", "", "", "purchase ledger review 2023-06"),
    # Zhejiang clean control: fully declared, total share 1.
    ("yiwu-clearbrook", "bengaluru-templebloom", "0501", "0.6", "2022-01-01", "",
     "supplier declaration and mill certificates 2023-01"),
    ("yiwu-clearbrook", "hanoi-longtress", "6703", "0.4", "2022-01-01", "",
     "supplier declaration and mill certificates 2023-01"),
]


def build_links() -> list[dict]:
    return [{"link_id": f"SL-{k:03d}", "buyer": b, "supplier": s, "hs_code": hs, "share": sh, "valid_from": vf,
             "valid_to": vt, "source": src} for k, (b, s, hs, sh, vf, vt, src) in enumerate(LINKS, 1)]


def build_watchlist() -> list[dict]:
    src = "OFAC SDN (fictional sample)"
    ids = {p["party_id"]: p["identifiers"] for p in PARTIES}
    eastwind_uscc = ids["hunchun-eastwind"].split(";")[0]
    rows = [
        # fuzzy: the KP cooperative under another romanisation
        ("WL-001", "Pyongyang Ryunhwa Hair Processing Co-operative", "Ryunhwa Hair Craft Cooperative", "KP",
         "DPRK3", ""),
        # exact name match
        ("WL-002", "Dandong Riverside Trading Co., Ltd.", "", "CN", "DPRK4", ""),
        # identifier-only match (a different name)
        ("WL-003", "Tumen Eastgate Commerce Co., Ltd.", "", "CN", "DPRK3", eastwind_uscc),
        # exact alias match of the KP eyelash workshop
        ("WL-004", "Korea Haebit General Trading Company", "Sinuiju Haebit Eyelash Workshop;Haebit Trading",
         "KP", "DPRK4", ""),
        # near misses / unrelated (same cities, different businesses)
        ("WL-005", "Dandong Harborview Shipping Agency Co., Ltd.", "", "CN", "DPRK3", ""),
        ("WL-006", "Xuchang Ironpeak Machinery Co., Ltd.", "", "CN", "DPRK4", ""),
        ("WL-007", "Korea Pyolmuri Shipping Company", "Pyolmuri Maritime", "KP", "DPRK3", ""),
        ("WL-008", "Hunchun Northern Fisheries Co., Ltd.", "", "CN", "DPRK4", ""),
    ]
    return [{"entry_id": e, "name": n, "aliases": a, "country": c, "program": p, "identifiers": i, "source": src}
            for e, n, a, c, p, i in rows]


# ----------------------------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------------------------

def cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return str(v)
    return str(v)


def money_rows(rows: list[dict], key: str) -> list[dict]:
    return [{**r, key: fmt_money(r[key])} for r in rows]


def write_csv(name: str, columns: list[str], rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(columns)
    for r in rows:
        w.writerow([cell(r.get(c)) for c in columns])
    text = buf.getvalue()
    (OUT / name).write_bytes(text.encode("utf-8"))
    return text


SHIP_COLS = ["shipment_id", "date", "shipper", "consignee", "hs_code", "value", "currency", "quantity", "unit",
             "weight_kg", "origin_country", "description", "port_lading", "port_unlading"]
TF_COLS = ["flow_id", "period", "reporter", "region", "partner", "flow", "hs_code", "value", "currency",
           "quantity", "unit", "regime"]


# ----------------------------------------------------------------------------------------------------------
# Checks: a small re-implementation of the firm-level part of SPEC §3 (documented + declared), used only to
# make sure the sample exercises what it claims to. The Rust tool is authoritative.
# ----------------------------------------------------------------------------------------------------------

def relevant(hs: str, o: str) -> bool:
    prefixes = HS_INPUTS.get(o, ()) + (o,)
    return any(hs.startswith(p) or p.startswith(hs) for p in prefixes)


class FirmModel:
    """Mix of documented/declared evidence; what SPEC §3 would send to a statistics pool is kept apart as `pool`."""

    def __init__(self, ships, links):
        self.inbound = defaultdict(list)
        self.outbound = defaultdict(list)
        for s in ships:
            self.inbound[s["consignee"]].append(s)
            self.outbound[s["shipper"]].append(s)
        self.links = defaultdict(list)
        for l in links:
            self.links[l["buyer"]].append(l)
        self.memo = {}

    def ship_mix(self, s):
        if PARTY[s["shipper"]]["country"] in SANCTIONED or s["origin_country"] in SANCTIONED:
            return {"s": 1.0, "c": 0.0, "u": 0.0, "pool": 0.0}
        return self.mix(s["shipper"], s["hs_code"][:4], s["date"])

    def mix(self, p, o, t):
        key = (p, o, t)
        if key in self.memo:
            return self.memo[key]
        res = {"s": 0.0, "c": 0.0, "u": 0.0, "pool": 0.0}
        if PARTY[p]["country"] in SANCTIONED:
            res["s"] = 1.0
            self.memo[key] = res
            return res
        lo = t - dt.timedelta(days=LAG_DAYS)
        ins = [d for d in self.inbound[p] if lo <= d["date"] < t and relevant(d["hs_code"], o)]
        D = sum(float(d["_usd"]) for d in ins)
        O = sum(float(s["_usd"]) for s in self.outbound[p] if lo <= s["date"] <= t and s["hs_code"].startswith(o))
        denom = max(D, O)
        wsum = 0.0
        if denom > 0:
            for d in ins:
                w = float(d["_usd"]) / denom
                wsum += w
                for k, v in self.ship_mix(d).items():
                    res[k] += w * v
        r = 1.0 - wsum
        valid = [l for l in self.links[p] if relevant(l["hs_code"], o)
                 and (not l["valid_from"] or dt.date.fromisoformat(l["valid_from"]) <= t)
                 and (not l["valid_to"] or t <= dt.date.fromisoformat(l["valid_to"]))]
        total = sum(float(l["share"]) for l in valid)
        scale = 1.0 / total if total > 1 else 1.0
        for l in valid:
            w = r * float(l["share"]) * scale
            sup = l["supplier"]
            if sup.startswith("country:"):
                res["s" if sup[8:] in SANCTIONED else "c"] += w
            else:
                head = l["hs_code"][:4]
                cands = [s for s in self.outbound[sup] if lo <= s["date"] < t and s["hs_code"].startswith(head)]
                if not cands:
                    res["u"] += w
                else:
                    last = max(cands, key=lambda s: (s["date"], s["shipment_id"]))
                    for k, v in self.ship_mix(last).items():
                        res[k] += w * v
        res["pool"] += r * (1 - min(1.0, total))
        self.memo[key] = res
        return res


def check(parties, ships, flows, links, watch, rates) -> dict:
    errors = []

    def req(cond, msg):
        if not cond:
            errors.append(msg)

    iso2 = {"KP", "CN", "HK", "IN", "MM", "VN", "PK", "US", "GB", "NG", "GH", "ZA", "JP", "KR", "DE", "FR", "CA",
            "AE", "AU"}
    regions = {"CN-HA", "CN-SD", "CN-LN", "CN-JL", "CN-ZJ", "US-NY", "US-CA", "US-TX", "US-NJ", "US-IL", "US-GA"}
    pids = [p["party_id"] for p in parties]
    req(len(pids) == len(set(pids)), "duplicate party_id")
    for p in parties:
        req(p["country"] in iso2, f"party {p['party_id']}: country")
        req(not p["region"] or (p["region"] in regions and p["region"][:2] == p["country"]),
            f"party {p['party_id']}: region")
    sids = [s["shipment_id"] for s in ships]
    req(len(sids) == len(set(sids)), "duplicate shipment_id")
    for s in ships:
        req(s["shipper"] in PARTY and s["consignee"] in PARTY, f"{s['shipment_id']}: unknown party")
        req(s["shipper"] != s["consignee"], f"{s['shipment_id']}: shipper = consignee")
        req(FIRST_DAY <= s["date"] <= LAST_DAY, f"{s['shipment_id']}: date out of range")
        req(s["hs_code"].isdigit(), f"{s['shipment_id']}: hs")
        req(s["value"] >= 0, f"{s['shipment_id']}: value")
        req(not s["origin_country"] or s["origin_country"] in iso2, f"{s['shipment_id']}: origin")
        if s["currency"] != "USD":
            req((s["currency"], period(s["date"].year, s["date"].month)) in RATES, f"{s['shipment_id']}: no rate")
    fids = [f["flow_id"] for f in flows]
    req(len(fids) == len(set(fids)), "duplicate flow_id")
    for f in flows:
        req(f["flow"] in ("import", "export"), f"{f['flow_id']}: flow")
        req(f["partner"] in iso2 and f["region"] in regions, f"{f['flow_id']}: codes")
        req(f["hs_code"].isdigit() and f["value"] >= 0, f"{f['flow_id']}: hs/value")
        # No trade row may have the same key as another (only the intended yearly/monthly overlap exists).
    keys = [(f["period"], f["region"], f["partner"], f["flow"], f["hs_code"]) for f in flows]
    req(len(keys) == len(set(keys)), "duplicate trade-flow key")
    lids = [l["link_id"] for l in links]
    req(len(lids) == len(set(lids)), "duplicate link_id")
    for l in links:
        req(l["buyer"] in PARTY, f"{l['link_id']}: buyer")
        sup = l["supplier"]
        req(sup in PARTY or (sup.startswith("country:") and sup[8:] in iso2), f"{l['link_id']}: supplier")
        req(0 <= float(l["share"]) <= 1, f"{l['link_id']}: share")
        for d in (l["valid_from"], l["valid_to"]):
            if d:
                dt.date.fromisoformat(d)
    # Shares per buyer + hs at every boundary date stay <= 1.
    by_key = defaultdict(list)
    for l in links:
        by_key[(l["buyer"], l["hs_code"])].append(l)
    for key in sorted(by_key):
        ls = by_key[key]
        dates = sorted({dt.date.fromisoformat(d) for l in ls for d in (l["valid_from"], l["valid_to"]) if d}
                       | {dt.date(2023, 1, 1)})
        for d in dates:
            tot = sum(float(l["share"]) for l in ls
                      if (not l["valid_from"] or dt.date.fromisoformat(l["valid_from"]) <= d)
                      and (not l["valid_to"] or d <= dt.date.fromisoformat(l["valid_to"])))
            req(tot <= 1 + 1e-9, f"links {key} sum {tot} at {d}")
    wids = [w["entry_id"] for w in watch]
    req(len(wids) == len(set(wids)), "duplicate entry_id")
    idents = {i for p in parties for i in p["identifiers"].split(";") if i}
    req(any(w["identifiers"] in idents for w in watch if w["identifiers"]), "no identifier match in watchlist")
    rkeys = [(r["currency"], r["period"]) for r in rates]
    req(len(rkeys) == len(set(rkeys)), "duplicate rate")

    # Key figures.
    apr = [f for f in flows if f["period"] == "2023-04" and f["partner"] == "KP" and f["flow"] == "import"]
    ha_apr = sum(f["value"] for f in apr if f["region"] == "CN-HA")
    kp_apr = sum(f["value"] for f in apr)
    req(ha_apr == Decimal(11220000), f"April CN-HA KP = {ha_apr}")
    req(kp_apr == Decimal(22680000), f"April KP total = {kp_apr}")
    ha_exp_apr = sum(f["value"] for f in flows if f["period"] == "2023-04" and f["region"] == "CN-HA"
                     and f["flow"] == "export" and f["hs_code"].startswith("6704"))
    ha_imp_apr = sum(f["value"] for f in flows if f["period"] == "2023-04" and f["region"] == "CN-HA"
                     and f["flow"] == "import" and relevant(f["hs_code"], "6704"))
    kp_2023 = sum(f["value"] for f in flows if f["period"].startswith("2023-") and f["partner"] == "KP"
                  and f["flow"] == "import")

    # Low price: exactly the two intended rows are under half the HS6 median (by USD per kg).
    vpk = defaultdict(list)
    for s in ships:
        if s["weight_kg"]:
            vpk[s["hs_code"]].append(float(s["_usd"]) / float(s["weight_kg"]))
    med = {hs: median(v) for hs, v in vpk.items()}
    low = [s["shipment_id"] for s in ships if s["weight_kg"]
           and float(s["_usd"]) / float(s["weight_kg"]) < 0.5 * med[s["hs_code"]]]
    intended_low = [s["shipment_id"] for s in ships if s["_tag"] == "low-price"]
    req(low == intended_low, f"low-price rows {low} != {intended_low}")
    # Nothing else close to the threshold either (robust to small differences in the median definition).
    near = [s["shipment_id"] for s in ships if s["weight_kg"] and s["_tag"] != "low-price"
            and float(s["_usd"]) / float(s["weight_kg"]) < 0.65 * med[s["hs_code"]]]
    req(not near, f"rows near the low-price threshold: {near}")

    # Firm-level exposure: origin-mislabel exactly on the intended rows, with margins.
    model = FirmModel(ships, links)
    mis, firm = [], {}
    for s in ships:
        m = model.ship_mix(s)
        firm[s["shipment_id"]] = m
        declared_clean = s["origin_country"] and s["origin_country"] not in SANCTIONED
        if declared_clean and m["s"] >= 0.5:
            mis.append(s["shipment_id"])
        if declared_clean and s["_tag"] != "mislabel":
            req(m["s"] < 0.42, f"{s['shipment_id']} firm-level sanctioned {m['s']:.3f} too close to 0.5")
        if s["_tag"] == "mislabel":
            req(m["s"] >= 0.6, f"{s['shipment_id']} mislabel candidate only {m['s']:.3f}")
    intended_mis = [s["shipment_id"] for s in ships if s["_tag"] == "mislabel"]
    req(mis == intended_mis, f"mislabel rows {mis} != {intended_mis}")
    # The control chain is fully clean and fully covered.
    control = [s for s in ships if s["shipper"] == "yiwu-clearbrook"]
    for s in control:
        m = firm[s["shipment_id"]]
        req(m["s"] == 0 and m["u"] < 1e-12 and m["pool"] < 1e-12 and abs(m["c"] - 1) < 1e-9,
            f"control {s['shipment_id']} not clean: {m}")
    # Makers' outputs roughly match or exceed their inputs over any 180-day window in 2023.
    maker_ids = sorted({s["shipper"] for s in ships if s["_tag"] == "export"})
    for p in maker_ids:
        for t in [dt.date(2023, mm, 28) for mm in range(4, 13)]:
            lo = t - dt.timedelta(days=LAG_DAYS)
            ins = sum(float(s["_usd"]) for s in ships if s["consignee"] == p and lo <= s["date"] < t)
            outs = sum(float(s["_usd"]) for s in ships if s["shipper"] == p and lo <= s["date"] <= t
                       and s["hs_code"].startswith("6704"))
            req(outs >= 0.9 * ins, f"{p}: outputs {outs:.0f} < inputs {ins:.0f} in window to {t}")

    if errors:
        for e in errors:
            print("CHECK FAILED:", e, file=sys.stderr)
        sys.exit(1)
    return {"ha_apr": ha_apr, "kp_apr": kp_apr, "ha_exp_apr": ha_exp_apr, "ha_imp_apr": ha_imp_apr,
            "kp_2023": kp_2023, "firm": firm, "median": med, "low": low, "mis": mis}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    ships = build_shipments()
    flows = build_trade_flows()
    links = build_links()
    watch = build_watchlist()
    rates = [{"currency": c, "period": p, "usd_per_unit": v} for (c, p), v in sorted(RATES.items())]

    summary = check(PARTIES, ships, flows, links, watch, rates)

    counts = {
        "parties.csv": write_csv("parties.csv", ["party_id", "name", "country", "region", "city", "aliases",
                                                 "identifiers"], PARTIES),
        "shipments.csv": write_csv("shipments.csv", SHIP_COLS, ships),
        "trade_flows.csv": write_csv("trade_flows.csv", TF_COLS, money_rows(flows, "value")),
        "supplier_links.csv": write_csv("supplier_links.csv", ["link_id", "buyer", "supplier", "hs_code", "share",
                                                               "valid_from", "valid_to", "source"], links),
        "watchlist.csv": write_csv("watchlist.csv", ["entry_id", "name", "aliases", "country", "program",
                                                     "identifiers", "source"], watch),
        "rates.csv": write_csv("rates.csv", ["currency", "period", "usd_per_unit"], rates),
    }
    print("origintrace sample dataset written to", OUT)
    for name, text in counts.items():
        print(f"  {name:20s} {text.count(chr(10)) - 1:5d} rows")
    cur = defaultdict(int)
    for s in ships:
        cur[s["currency"]] += 1
    print("  shipments by currency:", ", ".join(f"{c} {n}" for c, n in sorted(cur.items())))
    print("  shipments total value (USD, converted):", fmt_money(sum(s["_usd"] for s in ships)))
    print("  trade flows total value (USD):", fmt_money(sum(f["value"] for f in flows)))
    print(f"  April 2023 KP -> CN-HA imports: {summary['ha_apr']:,}")
    print(f"  April 2023 KP -> CN imports, all provinces: {summary['kp_apr']:,}")
    print(f"  2023 KP -> CN imports, all provinces: {summary['kp_2023']:,}")
    print(f"  April 2023 CN-HA exports of 6704: {summary['ha_exp_apr']:,}; relevant imports: {summary['ha_imp_apr']:,}"
          f" (KP share of the April pool {float(summary['ha_apr'] / max(summary['ha_exp_apr'], summary['ha_imp_apr'])):.4f})")
    print("  HS6 median USD/kg:", ", ".join(f"{k} {v:.1f}" for k, v in sorted(summary["median"].items())))
    print("  low-price candidates:", ", ".join(summary["low"]))
    print("  origin-mislabel candidates (firm-level sanctioned share):",
          ", ".join(f"{i} {summary['firm'][i]['s']:.3f}" for i in summary["mis"]))
    firm = summary["firm"]
    exposed = [s for s in ships if s["_tag"] == "export" and s["hs_code"] == "670420"
               and PARTY[s["shipper"]]["region"] == "CN-HA"
               and PARTY[s["consignee"]]["country"] == "US" and s["date"].year == 2023]
    best = max(exposed, key=lambda s: (round(firm[s["shipment_id"]]["s"], 9), s["shipment_id"]))
    print(f"  most exposed Henan->US export: {best['shipment_id']} {best['shipper']} -> {best['consignee']}"
          f" firm-level sanctioned {firm[best['shipment_id']]['s']:.4f}")
    ctrl = [s for s in ships if s["shipper"] == "yiwu-clearbrook"]
    print("  clean control shipments:", ", ".join(s["shipment_id"] for s in ctrl))
    sw = [s for s in ships if s["shipper"] == "pingdu-softwink" and s["date"].year == 2023]
    print("  pingdu-softwink (declared country:KP 0.2) firm-level sanctioned, min/max over 2023:",
          f"{min(firm[s['shipment_id']]['s'] for s in sw):.4f}/{max(firm[s['shipment_id']]['s'] for s in sw):.4f}")
    print("  firm-level sanctioned share per shipper (2023 mean over outbound shipments):")
    per = defaultdict(list)
    for s in ships:
        if s["date"].year == 2023 and PARTY[s["shipper"]]["country"] not in SANCTIONED:
            per[s["shipper"]].append(firm[s["shipment_id"]])
    for p in sorted(per):
        ms = per[p]
        n = len(ms)
        print(f"    {p:24s} n={n:3d} sanctioned {sum(m['s'] for m in ms) / n:.3f}"
              f" clean {sum(m['c'] for m in ms) / n:.3f} unknown {sum(m['u'] for m in ms) / n:.3f}"
              f" to-pool {sum(m['pool'] for m in ms) / n:.3f}")


if __name__ == "__main__":
    main()
