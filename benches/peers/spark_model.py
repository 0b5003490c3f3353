#!/usr/bin/env python3
"""The SQL twin of origintrace's attribution model (SPEC §3, model v2) on Apache Spark: a port of
benches/peers/duckdb_model.py to Spark SQL, reading the Parquet files of `origintrace export --format parquet`.

The same model steps as the DuckDB twin, statement for statement (docs/twin.md explains them), and the same
output CSV, so `benches/peers/compare.py --twin-output` checks it against the engine. What the port changes
(docs/parquet.md, "The SQL twin on Spark"):
  * the tables are read with their Parquet types: money is Spark `DecimalType` (exact), dates `DateType`, a
    link's share `DOUBLE`; nothing goes through text;
  * DuckDB's `HUGEINT` fixed point (units of 1e-18 USD) is `DECIMAL(38, 0)` here, its `//` a `floor` of an
    exact decimal quotient; Spark's ANSI mode is on, so a figure too large for the type stops the run with an
    overflow error instead of giving a wrong number (the bound: one statistics figure of a partial period
    above about 2.8e15 USD);
  * the ASOF join (a party link's latest supplier output) is a window over the union of both sides;
  * `unnest(range(a, b))` is `explode` of a filtered `sequence`; row numbers are `monotonically_increasing_id`
    (only identities: nothing depends on their order);
  * every table is materialised as a Parquet file in a scratch directory and read back (DuckDB's `CREATE
    TABLE`), so the recursion's rounds grow neither a lineage nor the optimizer's size estimates.

Usage: python3 benches/peers/spark_model.py --parquet DIR [-o OUT.csv] [--config FILE] [--lag-days N]
           [--master local[2]] [--driver-memory 4g] [--partitions N] [--scratch DIR] [--link-own-heading] [-v]
Settings: data/origintrace.toml's defaults, then the settings the export used (kept in mixes.parquet's
metadata; else DIR/../origintrace.toml given with --data), then --config, then --lag-days.
Output CSV: shipment_id,sanctioned,clean,unknown,documented,declared,statistical,coverage,prevalence,flags,
severity,flag_severities (sorted by shipment_id), as duckdb_model.py writes it.
Needs Java 17+ and PySpark (`pip install pyspark`); runs in local mode by default.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
import tempfile
import time
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULTS_TOML = os.path.join(HERE, "..", "..", "data", "origintrace.toml")

EPS = 1e-12
COMPONENTS = ["sd", "sl", "ss", "cd", "cl", "cs", "u"]  # sanctioned / clean by grade, unknown

# Canonical columns per file (SPEC §2) and the type each is read as when the file lacks it.
FILES = {
    "parties": {"party_id": "STRING", "name": "STRING", "country": "STRING", "region": "STRING"},
    "shipments": {"shipment_id": "STRING", "date": "DATE", "shipper": "STRING", "consignee": "STRING",
                  "hs_code": "STRING", "value": "DECIMAL(38,8)", "currency": "STRING",
                  "origin_country": "STRING"},
    "trade_flows": {"flow_id": "STRING", "period": "STRING", "reporter": "STRING", "region": "STRING",
                    "partner": "STRING", "flow": "STRING", "hs_code": "STRING", "value": "DECIMAL(38,8)",
                    "currency": "STRING"},
    "supplier_links": {"link_id": "STRING", "buyer": "STRING", "supplier": "STRING", "hs_code": "STRING",
                       "share": "DOUBLE", "valid_from": "DATE", "valid_to": "DATE"},
    "rates": {"currency": "STRING", "period": "STRING", "usd_per_unit": "DECIMAL(38,10)"},
}

# Below a millionth of a dollar a difference of statistics sums is rounding noise (the engine's rule), in
# units of 1e-18 USD.
NOISE = 10**12


# ---------------------------------------------------------------------------------------------------------
# Settings, as duckdb_model.py reads them (kept here so that this twin needs PySpark only).


def hs_norm(s: str) -> str:
    return str(s).replace(".", "").replace(" ", "").strip()


def default_settings() -> dict:
    st = {
        "sanctioned_origins": ["KP"],
        "transit_partners": ["HK", "MO"],
        "lag_days": 180,
        "counterparty_days": 730,
        "severity": {"medium": 0.01, "high": 0.10},
        "hs_inputs": {"6704": ["0501", "6703", "6704"], "6703": ["0501", "6703"]},
        "input_ratio": {},
    }
    if os.path.exists(DEFAULTS_TOML):
        st = overlay(st, DEFAULTS_TOML)
    return st


def overlay(st: dict, path: str) -> dict:
    with open(path, "rb") as f:
        return overlay_raw(st, tomllib.load(f))


def overlay_raw(st: dict, raw: dict) -> dict:
    st = {**st, "severity": dict(st["severity"]), "hs_inputs": dict(st["hs_inputs"]),
          "input_ratio": dict(st["input_ratio"])}
    if "sanctioned_origins" in raw:
        st["sanctioned_origins"] = [c.strip().upper() for c in raw["sanctioned_origins"]]
    if "transit_partners" in raw:
        st["transit_partners"] = [c.strip().upper() for c in raw["transit_partners"]]
    if "lag_days" in raw:
        st["lag_days"] = int(raw["lag_days"])
    if "counterparty_days" in raw:
        st["counterparty_days"] = int(raw["counterparty_days"])
    for k in ("medium", "high"):
        if k in raw.get("severity", {}):
            st["severity"][k] = float(raw["severity"][k])
    for k, v in raw.get("hs_inputs", {}).items():
        st["hs_inputs"][hs_norm(k)] = [hs_norm(x) for x in v]
    for k, v in raw.get("input_ratio", {}).items():
        st["input_ratio"][hs_norm(k)] = float(v)
    return st


def parquet_settings(spark, data: str) -> dict | None:
    """The settings the export computed its mixes with: the JSON in mixes.parquet's key-value metadata
    (`origintrace.settings`), read with the Parquet reader Spark ships."""
    path = os.path.join(data, "mixes.parquet")
    if not os.path.exists(path):
        return None
    jvm = spark._jvm
    hp = jvm.org.apache.parquet.hadoop
    f = hp.util.HadoopInputFile.fromPath(jvm.org.apache.hadoop.fs.Path(os.path.abspath(path)),
                                         spark._jsc.hadoopConfiguration())
    reader = hp.ParquetFileReader.open(f)
    try:
        kv = reader.getFooter().getFileMetaData().getKeyValueMetaData()
        raw = kv.get("origintrace.settings")
    finally:
        reader.close()
    return json.loads(raw) if raw else None


# ---------------------------------------------------------------------------------------------------------
# SQL helpers (Spark SQL).


def dbl(x: float) -> str:
    """A DOUBLE literal (a bare `0.01` is a DECIMAL in Spark SQL)."""
    return f"{float(x)!r}D"


ZERO = "0.0D"
ONE = "1.0D"
DEC0 = "CAST(0 AS DECIMAL(38,12))"


def quote(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def in_list(x: str, values: list[str]) -> str:
    """`x IN (values)` with the values inlined (DuckDB's `x IN (SELECT c FROM so)`); false for no value."""
    vals = list(dict.fromkeys(values))
    return f"({x} IN ({', '.join(quote(v) for v in vals)}))" if vals else "false"


def rng(a: str, b: str) -> str:
    """DuckDB's `range(a, b)`: the integers a ≤ n < b, empty when b ≤ a (Spark's `sequence` would count
    down)."""
    return f"filter(sequence({a}, greatest({a}, ({b}) - 1)), n_ -> n_ < ({b}))"


def tidy(x: str) -> str:
    """SPEC §3: shares below 1e-12 are 0; each share clamped into [0, 1] (the engine's Mix::tidy)."""
    return f"(CASE WHEN abs({x}) < {dbl(EPS)} THEN {ZERO} ELSE least(greatest({x}, {ZERO}), {ONE}) END)"


def double(x: str) -> str:
    return f"CAST({x} AS DOUBLE)"


def shares_sql(p: str, k: str, s_rest: str | None = None) -> tuple[str, str, str]:
    """Pool shares (SPEC §3 v2) from figures p_S, p_U, p_I, p_E (DECIMAL(38,0) fixed point) and the input
    ratio `k` (DOUBLE): `T = max(I, k·E)`; sanctioned S/T, unknown U/T, clean (I-S-U)/T, and the remainder
    R = (T-I)/T, unknown except that a region pool carries the rest of the country's sanctioned share `s_rest`
    into it: R·s_rest sanctioned, R·(1 - s_rest) unknown. Returns (sanctioned, clean, unknown)."""
    t = f"greatest({double(p + '_I')}, {k} * {double(p + '_E')})"
    s = f"({double(p + '_S')} / {t})"
    u = f"({double(p + '_U')} / {t})"
    c = f"greatest({double(f'({p}_I - {p}_S - {p}_U)')} / {t}, {ZERO})"
    r = f"greatest({ONE} - {double(p + '_I')} / {t}, {ZERO})"
    if s_rest is None:
        return s, c, f"{u} + {r}"
    return f"{s} + {r} * {s_rest}", c, f"{u} + {r} * ({ONE} - {s_rest})"


def col(c: str) -> str:
    """A column name for a sanctioned partner's figure."""
    return "s_" + "".join(ch for ch in c.lower() if ch.isalnum())


def units(x: str) -> str:
    """An exact DECIMAL(38,12) amount in units of 1e-18 USD, as DECIMAL(38,0) (DuckDB's HUGEINT): x·1e12 is
    an integer, exact in Spark's DECIMAL(38,6) product, then ·1e6."""
    return (f"CAST(CAST(coalesce({x}, {DEC0}) * 1000000000000 AS DECIMAL(38,0)) * 1000000 "
            f"AS DECIMAL(38,0))")


def prorate(x: str) -> str:
    """A DECIMAL(38,0) figure pro-rated by `ov` of `days` days, rounded down: ⌊x/days⌋·ov + ⌊(x mod days)·ov/
    days⌋. The quotients are exact decimals (6 and 11 digits after the point, and a fraction j/days with
    days ≤ 366 never rounds up to the next integer), so `floor` is DuckDB's integer `//`."""
    return (f"(CASE WHEN ov >= days THEN {x} ELSE CAST(floor({x} / days) * ov "
            f"+ floor(({x} % days) * ov / days) AS DECIMAL(38,0)) END)")


def convert(val: str, rate: str) -> str:
    """val (DECIMAL(24,8)) × rate (DECIMAL(14,10)) as DECIMAL(38,12), rounded once, as DuckDB's exact
    DECIMAL(38,18) product cast to DECIMAL(38,12). Spark would cut the full product to 17 digits after the
    point first, so the rate is split into its integer part (an exact product with 8 digits) and its fraction
    (an exact product with 18 digits, rounded to 12)."""
    ri = f"CAST(floor({rate}) AS DECIMAL(4,0))"
    rf = f"CAST({rate} - floor({rate}) AS DECIMAL(10,10))"
    return (f"(CAST({val} * {ri} AS DECIMAL(37,12)) + CAST({val} * {rf} AS DECIMAL(37,12)))")


class Twin:
    def __init__(self, spark, data: str, st: dict, scratch: str, verbose: int = 0,
                 link_own_heading: bool = False, t0: float | None = None):
        self.spark = spark
        self.data = data
        self.link_own_heading = link_own_heading
        self.st = st
        self.lag = int(st["lag_days"])
        self.so = list(dict.fromkeys(st["sanctioned_origins"]))
        self.tp = list(dict.fromkeys(st["transit_partners"]))
        self.scols = [col(c) for c in self.so]
        self.verbose = verbose
        self.t0 = time.perf_counter() if t0 is None else t0
        self.rounds = 0
        self.scratch = scratch
        self.written = 0

    def log(self, msg: str) -> None:
        if self.verbose:
            print(f"[{time.perf_counter() - self.t0:8.3f}s] {msg}", file=sys.stderr)

    def table(self, name: str, q: str) -> None:
        """DuckDB's CREATE OR REPLACE TABLE: the query, computed now, written to a Parquet file in the scratch
        directory and read back as a view. A written table cuts the lineage, and its size is the file's:
        `localCheckpoint` would cut the lineage too but keep the optimizer's estimate of the query's size,
        which for a join is the product of its inputs' estimates, so a table that each round of the recursion
        rebuilds from its previous version would carry an estimate whose digits double every round (planning
        time grows with them: the 39 rounds of tests/fixtures/hostile/chain never finish)."""
        t = time.perf_counter()
        self.written += 1
        path = os.path.join(self.scratch, f"{self.written:04d}-{name}")
        df = self.spark.sql(q)
        df.write.parquet(path)
        self.spark.read.schema(df.schema).parquet(path).createOrReplaceTempView(name)
        if self.verbose > 1:
            print(f"           {time.perf_counter() - t:7.3f}s  {name}: {' '.join(q.split())[:60]}",
                  file=sys.stderr)

    def count(self, table: str) -> int:
        return self.spark.sql(f"SELECT count(*) FROM {table}").collect()[0][0]

    # -----------------------------------------------------------------------------------------------------
    def run(self, out: str | None) -> None:
        self.load()
        self.outputs()
        self.documented()
        self.links()
        self.pools()
        self.constants()
        self.iterate()
        self.counterparties()
        self.write(out)

    # -----------------------------------------------------------------------------------------------------
    def load_raw(self, table: str) -> bool:
        """raw_<table>: the canonical columns with their Parquet types (text trimmed, empty text NULL); a
        missing file or column is NULL of the type in FILES."""
        cols = FILES[table]
        path = os.path.join(self.data, f"{table}.parquet")
        if not os.path.exists(path):
            self.spark.sql("SELECT " + ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in cols.items())
                           + " WHERE false").createOrReplaceTempView(f"raw_{table}")
            return False
        df = self.spark.read.parquet(os.path.abspath(path))
        types = {f.name.lower(): f.dataType.simpleString() for f in df.schema.fields}
        names = {f.name.lower(): f.name for f in df.schema.fields}
        df.createOrReplaceTempView(f"pq_{table}")
        sel = []
        for c, t in cols.items():
            if c not in types:
                sel.append(f"CAST(NULL AS {t}) AS {c}")
            elif types[c] == "string":
                sel.append(f"NULLIF(trim(`{names[c]}`), '') AS {c}")
            else:
                sel.append(f"`{names[c]}` AS {c}")
        self.spark.sql(f"SELECT {', '.join(sel)} FROM pq_{table}").createOrReplaceTempView(f"raw_{table}")
        return True

    def load(self) -> None:
        """The canonical tables, typed: parties and shipments keyed by integers, money as exact decimals (a
        non-USD value takes the rate of its month, else of its year), dates as day numbers."""
        spark, st = self.spark, self.st
        found = [self.load_raw(t) for t in FILES]
        if not any(found):
            raise SystemExit(f"{self.data}: no Parquet files (origintrace export --format parquet)")
        so = self.so
        hs_rows = [(hs_norm(o), hs_norm(p)) for o, ps in st["hs_inputs"].items() for p in ps]
        spark.createDataFrame(hs_rows, "o STRING, p STRING").createOrReplaceTempView("hs_inputs")
        spark.createDataFrame([(k, float(v)) for k, v in st["input_ratio"].items()],
                              "o STRING, k DOUBLE").createOrReplaceTempView("ratio")

        self.table("parties", f"""
            SELECT monotonically_increasing_id() AS pn, party_id AS pid, upper(country) AS country,
                   upper(region) AS region, {in_list('upper(country)', so)} AS sanc
            FROM raw_parties""")
        self.table("rates", """
            SELECT upper(currency) AS cur, period, CAST(usd_per_unit AS DECIMAL(14,10)) AS rate
            FROM raw_rates""")
        decl = f"coalesce({in_list('s.origin', so)}, false)"
        self.table("ship", f"""
            WITH s AS (
                SELECT shipment_id AS sid, CAST(date AS DATE) AS dt, shipper, consignee,
                       replace(replace(hs_code, '.', ''), ' ', '') AS hs,
                       CAST(value AS DECIMAL(24,8)) AS val,
                       coalesce(upper(currency), 'USD') AS cur, upper(origin_country) AS origin
                FROM raw_shipments)
            SELECT s.sid, unix_date(s.dt) AS day, sp.pn AS sp, cp.pn AS cp, s.hs,
                   left(s.hs, 4) AS heading, s.origin,
                   CASE WHEN s.cur = 'USD' THEN CAST(s.val AS DECIMAL(38,12))
                        ELSE {convert('s.val', 'coalesce(rm.rate, ry.rate)')} END AS v,
                   {decl} AS decl_sanc,
                   sp.sanc OR {decl} AS direct,
                   sp.sanc AS shipper_sanc
            FROM s
            JOIN parties sp ON sp.pid = s.shipper
            JOIN parties cp ON cp.pid = s.consignee
            LEFT JOIN rates rm ON rm.cur = s.cur AND rm.period = date_format(s.dt, 'yyyy-MM')
            LEFT JOIN rates ry ON ry.cur = s.cur AND ry.period = date_format(s.dt, 'yyyy')""")
        if self.count("ship") != self.count("raw_shipments"):
            raise SystemExit("shipments.parquet: a shipper or consignee is not in parties.parquet")
        if self.count("ship WHERE v IS NULL"):
            raise SystemExit("shipments.parquet: a non-USD value without a rate for its month or year")
        # Statistics rows: the period as a half-open day range [ps, pe), value in USD.
        self.table("flows", f"""
            WITH f AS (
                SELECT monotonically_increasing_id() AS fid, upper(reporter) AS rep,
                       coalesce(upper(region), '') AS rg, upper(partner) AS partner, lower(flow) AS flow,
                       replace(replace(hs_code, '.', ''), ' ', '') AS hs, period,
                       length(period) = 4 AS is_year,
                       CAST(left(period, 4) AS INT) AS y,
                       CASE WHEN length(period) = 4 THEN 0 ELSE CAST(substr(period, 6, 2) AS INT) END AS m,
                       CAST(value AS DECIMAL(24,8)) AS val,
                       coalesce(upper(currency), 'USD') AS cur
                FROM raw_trade_flows),
            g AS (
                SELECT f.*, make_date(y, greatest(m, 1), 1) AS ps_date,
                       CASE WHEN is_year THEN make_date(y + 1, 1, 1)
                            ELSE add_months(make_date(y, greatest(m, 1), 1), 1) END AS pe_date
                FROM f)
            SELECT g.fid, g.rep, g.rg, g.partner, g.flow, g.hs, g.is_year, g.y, g.m,
                   g.y * 100 + g.m AS pk,
                   unix_date(g.ps_date) AS ps,
                   unix_date(g.pe_date) AS pe,
                   CASE WHEN g.cur = 'USD' THEN CAST(g.val AS DECIMAL(38,12))
                        ELSE {convert('g.val', 'coalesce(rm.rate, ry.rate)')} END AS v
            FROM g
            LEFT JOIN rates rm ON rm.cur = g.cur AND NOT g.is_year AND rm.period = g.period
            LEFT JOIN rates ry ON ry.cur = g.cur AND ry.period = left(g.period, 4)""")
        if self.count("flows WHERE v IS NULL"):
            raise SystemExit("trade_flows.parquet: a non-USD value without a rate for its month or year")
        self.table("links", """
            SELECT monotonically_increasing_id() AS lid, b.pn AS buyer, sp.pn AS sup, sp.sanc AS party_sanc,
                   CASE WHEN startswith(l.supplier, 'country:') THEN upper(trim(substr(l.supplier, 9))) END
                     AS sup_country,
                   replace(replace(l.hs_code, '.', ''), ' ', '') AS hs,
                   CAST(l.share AS DOUBLE) AS share,
                   unix_date(CAST(l.valid_from AS DATE)) AS vf,
                   unix_date(CAST(l.valid_to AS DATE)) AS vt
            FROM raw_supplier_links l
            JOIN parties b ON b.pid = l.buyer
            LEFT JOIN parties sp ON sp.pid = l.supplier""")
        if self.verbose:
            self.log(f"loaded: {self.count('ship')} shipments, {self.count('flows')} statistics rows, "
                     f"{self.count('links')} links")

    # -----------------------------------------------------------------------------------------------------
    def outputs(self) -> None:
        """Outputs (keys): (shipper, heading, day), grouped in streams (shipper, heading); each shipment's key;
        the relevance of every HS code to every output heading. (Phantom keys for party links: see
        duckdb_model.py.)"""
        phantom = "" if self.link_own_heading else f"""
            UNION ALL
            SELECT DISTINCT k.sp, l.lh AS heading, k.day, {DEC0} AS kv, false AS sanc, true AS phantom
            FROM (SELECT DISTINCT sup, left(hs, 4) AS lh FROM links
                  WHERE sup IS NOT NULL AND NOT party_sanc) l
            JOIN k ON k.sp = l.sup AND k.heading <> l.lh
                  AND (startswith(k.heading, l.lh) OR startswith(l.lh, k.heading))
            LEFT ANTI JOIN k k2 ON k2.sp = k.sp AND k2.heading = l.lh AND k2.day = k.day"""
        self.table("ka", f"""
            WITH k AS (SELECT sp, heading, day, sum(v) AS kv, bool_or(shipper_sanc) AS sanc
                       FROM ship GROUP BY sp, heading, day)
            SELECT sp, heading, day, kv, sanc, false AS phantom FROM k{phantom}""")
        self.table("streams", """
            SELECT monotonically_increasing_id() AS stid, sp, heading
            FROM (SELECT DISTINCT sp, heading FROM ka)""")
        self.table("keys", """
            SELECT monotonically_increasing_id() AS kid, st.stid,
                   ka.sp, ka.heading, ka.day, ka.kv, ka.sanc, ka.phantom, p.country, p.region
            FROM ka JOIN streams st ON st.sp = ka.sp AND st.heading = ka.heading
            JOIN parties p ON p.pn = ka.sp""")
        self.table("ship_key", """
            SELECT s.sid, s.cp, s.hs, s.day, s.v, s.direct, s.decl_sanc, s.origin, k.kid
            FROM ship s JOIN keys k ON k.sp = s.sp AND k.heading = s.heading AND k.day = s.day""")
        # Relevant inputs of heading o: the prefixes of hs_inputs[o] and o itself.
        self.table("pre", """
            SELECT DISTINCT o, p FROM (
                SELECT DISTINCT heading AS o, heading AS p FROM keys
                UNION ALL
                SELECT h.o, h.p FROM hs_inputs h WHERE h.o IN (SELECT heading FROM keys))""")
        # Every distinct HS code against every (o, prefix): "overlaps" = one is a prefix of the other.
        self.table("rel", """
            WITH codes AS (SELECT DISTINCT hs FROM (SELECT hs FROM ship UNION ALL SELECT hs FROM links
                                                    UNION ALL SELECT hs FROM flows WHERE flow = 'import'))
            SELECT DISTINCT codes.hs, pre.o FROM codes CROSS JOIN pre
            WHERE startswith(codes.hs, pre.p) OR startswith(pre.p, codes.hs)""")
        if self.verbose:
            self.log(f"outputs: {self.count('keys')} keys ({self.count('keys WHERE phantom')} for party links "
                     "only)")

    # -----------------------------------------------------------------------------------------------------
    def documented(self) -> None:
        """Rule 1: D (relevant inbound in [t-lag, t)) and O (outbound of the heading in [t-lag, t]) as
        RANGE-framed window sums over each stream; the inbound rows the recursion reads."""
        lag = self.lag
        self.table("seq", """
            WITH streams AS (SELECT DISTINCT stid, sp, heading AS o FROM keys WHERE NOT sanc)
            SELECT st.stid, d.day, d.v, d.direct, d.kid AS src
            FROM streams st
            JOIN ship_key d ON d.cp = st.sp
            JOIN rel ON rel.hs = d.hs AND rel.o = st.o""")
        self.table("kdoc", f"""
            WITH u AS (
                SELECT stid, day, v, CASE WHEN direct THEN v ELSE {DEC0} END AS vdir,
                       CAST(NULL AS BIGINT) AS kid FROM seq
                UNION ALL
                SELECT stid, day, {DEC0}, {DEC0}, kid FROM keys WHERE NOT sanc),
            w AS (
                SELECT kid, sum(v) OVER win AS d, sum(vdir) OVER win AS dd FROM u
                WINDOW win AS (PARTITION BY stid ORDER BY day RANGE BETWEEN {lag} PRECEDING AND 1 PRECEDING))
            SELECT kid, coalesce(d, {DEC0}) AS d, coalesce(dd, {DEC0}) AS dd FROM w WHERE kid IS NOT NULL""")
        # O counts every outbound shipment of the shipper whose HS code overlaps the heading.
        self.table("ovh", """
            WITH h AS (SELECT DISTINCT heading FROM keys)
            SELECT a.heading AS o, b.heading AS h FROM h a CROSS JOIN h b
            WHERE a.heading <> b.heading
              AND (startswith(a.heading, b.heading) OR startswith(b.heading, a.heading))""")
        self.table("kfig", f"""
            WITH st AS (SELECT DISTINCT stid, sp, heading AS o FROM keys WHERE NOT sanc),
            u AS (
                SELECT st.stid, k.day, k.kv, CAST(NULL AS BIGINT) AS kid
                FROM st JOIN ovh ON ovh.o = st.o JOIN keys k ON k.sp = st.sp AND k.heading = ovh.h
                UNION ALL
                SELECT stid, day, kv, kid FROM keys WHERE NOT sanc),
            o AS (
                SELECT kid, ov FROM (
                    SELECT kid, sum(kv) OVER (PARTITION BY stid ORDER BY day
                                              RANGE BETWEEN {lag} PRECEDING AND CURRENT ROW) AS ov
                    FROM u)
                WHERE kid IS NOT NULL),
            f AS (
                SELECT k.kid, k.stid, k.sp, k.heading, k.day, k.country, k.region,
                       CAST(kd.d AS DOUBLE) AS d, CAST(kd.dd AS DOUBLE) AS dd,
                       greatest(CAST(kd.d AS DOUBLE), coalesce(r.k, {ONE}) * CAST(o.ov AS DOUBLE)) AS denom
                FROM keys k JOIN kdoc kd ON kd.kid = k.kid JOIN o ON o.kid = k.kid
                LEFT JOIN ratio r ON r.o = k.heading)
            SELECT f.*,
                   CASE WHEN denom > 0 THEN {ONE} / denom ELSE {ZERO} END AS inv,
                   greatest({ONE} - CASE WHEN denom > 0 THEN d / denom ELSE {ZERO} END, {ZERO}) AS r
            FROM f""")
        # The rows the recursion reads: inbound shipments that carry their shipper's mix.
        self.table("seq_nd", "SELECT stid, day, CAST(v AS DOUBLE) AS vd, src FROM seq WHERE NOT direct")
        if self.verbose:
            self.log(f"documented: {self.count('seq')} inbound rows, {self.count('seq_nd')} recursive")

    # -----------------------------------------------------------------------------------------------------
    def links(self) -> None:
        """Rule 2: supplier links valid at t and relevant; shares scaled to 1 when over 1; what each stands
        for."""
        lag = self.lag
        self.table("lk0", f"""
            SELECT k.kid, k.heading AS o, k.day, l.lid, l.sup, l.sup_country, left(l.hs, 4) AS lh, l.share,
                   {in_list('l.sup_country', self.so)} AS country_sanc,
                   coalesce(l.party_sanc, false) AS party_sanc
            FROM kfig k
            JOIN links l ON l.buyer = k.sp
            JOIN rel ON rel.hs = l.hs AND rel.o = k.heading
            WHERE (l.vf IS NULL OR l.vf <= k.day) AND (l.vt IS NULL OR k.day <= l.vt)""")
        self.table("kshare", f"""
            SELECT k.kid, k.r, coalesce(s.share_sum, {ZERO}) AS share_sum,
                   CASE WHEN s.share_sum > {ONE} THEN {ONE} / s.share_sum ELSE {ONE} END AS scale,
                   k.r * ({ONE} - least({ONE}, coalesce(s.share_sum, {ZERO}))) AS rem
            FROM kfig k LEFT JOIN (SELECT kid, sum(share) AS share_sum FROM lk0 GROUP BY kid) s
              ON s.kid = k.kid""")
        # A party link takes the supplier's mix for the link's heading at its latest output of that heading
        # dated in [t - lag, t): the candidates are the keys of the stream (supplier, link heading).
        if self.link_own_heading:
            self.table("cand", """
                WITH pairs AS (SELECT DISTINCT sup, lh FROM lk0 WHERE sup IS NOT NULL AND NOT party_sanc)
                SELECT p.sup, p.lh, s.day, max_by(sk.kid, s.sid) AS ukid
                FROM pairs p
                JOIN ship s ON s.sp = p.sup AND startswith(s.heading, p.lh)
                JOIN ship_key sk ON sk.sid = s.sid
                GROUP BY p.sup, p.lh, s.day""")
        else:
            self.table("cand", """
                WITH pairs AS (SELECT DISTINCT sup, lh FROM lk0 WHERE sup IS NOT NULL AND NOT party_sanc)
                SELECT p.sup, p.lh, k.day, k.kid AS ukid
                FROM pairs p JOIN keys k ON k.sp = p.sup AND k.heading = p.lh""")
        # DuckDB's `lk0 ASOF LEFT JOIN cand c ON c.sup = lk0.sup AND c.lh = lk0.lh AND lk0.day > c.day`: both
        # sides in one window per (sup, lh), ordered by day with a link row before a candidate of the same day
        # (strictly earlier), each link row taking the last candidate before it. A candidate is unique per
        # (sup, lh, day).
        self.table("lk", f"""
            WITH u AS (
                SELECT kid, o, day, lid, sup, sup_country, lh, share, country_sanc, party_sanc,
                       0 AS side, CAST(NULL AS BIGINT) AS c_kid, CAST(NULL AS INT) AS c_day
                FROM lk0
                UNION ALL
                SELECT CAST(NULL AS BIGINT), CAST(NULL AS STRING), day, CAST(NULL AS BIGINT), sup,
                       CAST(NULL AS STRING), lh, CAST(NULL AS DOUBLE), CAST(NULL AS BOOLEAN),
                       CAST(NULL AS BOOLEAN), 1, ukid, day
                FROM cand),
            a AS (
                SELECT *, last(c_kid, true) OVER w AS ukid, last(c_day, true) OVER w AS uday FROM u
                WINDOW w AS (PARTITION BY sup, lh ORDER BY day, side
                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW))
            SELECT a.kid, a.o, a.day, a.lid, a.sup_country,
                   ks.r * a.share * ks.scale AS w,
                   CASE WHEN a.sup_country IS NOT NULL AND a.country_sanc THEN 'S_DECL'
                        WHEN a.sup_country IS NOT NULL THEN 'COUNTRY'
                        WHEN a.party_sanc THEN 'S_DECL'
                        WHEN a.ukid IS NOT NULL AND a.uday >= a.day - {lag} THEN 'UP'
                        ELSE 'UNKNOWN' END AS kind,
                   CASE WHEN a.uday >= a.day - {lag} THEN a.ukid END AS up
            FROM a JOIN kshare ks ON ks.kid = a.kid
            WHERE a.side = 0""")
        self.table("lkup", """
            SELECT l.kid, k.stid, l.w, l.up FROM lk l JOIN kfig k ON k.kid = l.kid
            WHERE l.kind = 'UP' AND l.w > 0""")
        if self.verbose:
            self.log(f"links: {self.count('lk')} link terms")

    # -----------------------------------------------------------------------------------------------------
    def pools(self) -> None:
        """Rule 3: statistics pools, per (reporter, scope, heading, day) that some output needs."""
        lag = self.lag
        sc = self.scols
        # Superseded rows (SPEC §3, docs/dataset.md): within one (reporter, region, partner, flow), a monthly
        # row with a strictly finer code in the same month; a yearly row with a strictly finer yearly code, or
        # any monthly row of its year whose code overlaps its own. Prefix tests are equi-joins on the expanded
        # prefixes of each code.
        self.table("superseded", f"""
            WITH pref AS (
                SELECT f.*, left(f.hs, n) AS pfx, n
                FROM flows f LATERAL VIEW explode({rng('2', 'length(f.hs) + 1')}) x AS n)
            SELECT DISTINCT a.fid FROM flows a JOIN pref b
              ON b.rep = a.rep AND b.rg = a.rg AND b.partner = a.partner AND b.flow = a.flow
             AND b.y = a.y AND b.m = a.m AND b.pfx = a.hs AND b.n < length(b.hs)
            UNION
            SELECT a.fid FROM flows a JOIN pref b
              ON b.rep = a.rep AND b.rg = a.rg AND b.partner = a.partner AND b.flow = a.flow
             AND b.y = a.y AND b.pfx = a.hs
            WHERE a.is_year AND NOT b.is_year
            UNION
            SELECT a.fid FROM pref a JOIN flows b
              ON b.rep = a.rep AND b.rg = a.rg AND b.partner = a.partner AND b.flow = a.flow
             AND b.y = a.y AND a.pfx = b.hs
            WHERE a.is_year AND NOT b.is_year""")
        self.table("fl", "SELECT f.* FROM flows f LEFT ANTI JOIN superseded s ON s.fid = f.fid")
        self.table("hasnat", "SELECT DISTINCT rep FROM fl WHERE rg = ''")
        self.table("heads", "SELECT DISTINCT heading AS o FROM keys")
        # Per (reporter, rows, output heading, period): I (relevant imports), U (transit partners and
        # re-imports), E (exports whose HS starts with the heading) and each sanctioned partner's relevant
        # imports, in exact fixed point (DECIMAL(38,0) units of 1e-18 USD). Rows: a region's, the national
        # ones (''), or all region rows ('*').
        s_cols = "".join(f", sum(v) FILTER (WHERE comp = 'I' AND partner = {quote(c)}) AS {col(c)}"
                         for c in self.so)
        as_units = ", ".join(f"{units(c)} AS {c}" for c in ["i", "u", "e"] + sc)
        self.table("pstat0", f"""
            WITH imp AS (
                SELECT f.rep, f.rg, rel.o, f.pk, f.ps, f.pe, f.partner,
                       CASE WHEN {in_list('f.partner', self.so)} THEN 'S'
                            WHEN {in_list('f.partner', self.tp)} OR f.partner = f.rep THEN 'U'
                            ELSE 'C' END AS cls,
                       f.v
                FROM fl f JOIN rel ON rel.hs = f.hs WHERE f.flow = 'import'),
            exps AS (
                SELECT f.rep, f.rg, h.o, f.pk, f.ps, f.pe, f.v
                FROM fl f JOIN heads h ON left(f.hs, length(h.o)) = h.o
                WHERE f.flow = 'export' AND length(f.hs) >= length(h.o)),
            comp AS (
                SELECT rep, rg, o, pk, ps, pe, 'I' AS comp, partner, cls, v FROM imp
                UNION ALL
                SELECT rep, rg, o, pk, ps, pe, 'E', '', '', v FROM exps),
            scoped AS (
                SELECT * FROM comp
                UNION ALL
                SELECT rep, '*', o, pk, ps, pe, comp, partner, cls, v FROM comp WHERE rg <> ''),
            agg AS (
                SELECT rep, rg, o, pk, ps, pe,
                       sum(v) FILTER (WHERE comp = 'I') AS i,
                       sum(v) FILTER (WHERE comp = 'I' AND cls = 'U') AS u,
                       sum(v) FILTER (WHERE comp = 'E') AS e
                       {s_cols}
                FROM scoped GROUP BY rep, rg, o, pk, ps, pe)
            SELECT rep, rg, o, pk, ps, pe, {as_units} FROM agg""")
        self.table("sko", """
            SELECT monotonically_increasing_id() AS skid, rep, rg, o
            FROM (SELECT DISTINCT rep, rg, o FROM pstat0)""")
        self.table("pstat", f"""
            SELECT k.skid, p.pk, p.ps, p.pe, p.pe - p.ps AS days, p.i, p.u, p.e{''.join(', p.' + c for c in sc)}
            FROM pstat0 p JOIN sko k ON k.rep = p.rep AND k.rg = p.rg AND k.o = p.o""")
        # Pool requests: party pools of outputs with a statistical remainder, and national pools of countries
        # named by links with weight.
        self.table("preq", """
            SELECT DISTINCT k.country AS rep, k.region AS r, k.heading AS o, k.day AS t
            FROM kfig k JOIN kshare s ON s.kid = k.kid WHERE s.rem > 0 AND k.region IS NOT NULL
            UNION
            SELECT DISTINCT k.country, CAST(NULL AS STRING), k.heading, k.day
            FROM kfig k JOIN kshare s ON s.kid = k.kid WHERE s.rem > 0
            UNION
            SELECT DISTINCT sup_country, CAST(NULL AS STRING), o, day FROM lk WHERE kind = 'COUNTRY' AND w > 0""")
        # Figure requests: a region's own rows, the national rows and all region rows, each one integer key.
        self.table("freq", """
            SELECT monotonically_increasing_id() AS qid, q.rep, q.rg, q.o, q.t, k.skid FROM (
                SELECT DISTINCT rep, r AS rg, o, t FROM preq WHERE r IS NOT NULL
                UNION
                SELECT DISTINCT rep, '' AS rg, o, t FROM preq WHERE rep IN (SELECT rep FROM hasnat)
                UNION
                SELECT DISTINCT rep, '*' AS rg, o, t FROM preq) q
            LEFT JOIN sko k ON k.rep = q.rep AND k.rg = q.rg AND k.o = q.o""")
        # Each window [t - lag, t) touches a few months and one or two years: enumerate those period keys and
        # equi-join; pro-rate by the days of each period inside the window.
        self.table("pkq", f"""
            WITH e AS (
                SELECT qid, skid, t, t - {lag} AS lo,
                       date_add(DATE '1970-01-01', t - {lag}) AS lo_d, date_add(DATE '1970-01-01', t - 1) AS hi_d
                FROM freq WHERE skid IS NOT NULL)
            SELECT qid, skid, t, lo, CAST((mi DIV 12) * 100 + mi % 12 + 1 AS INT) AS pk FROM (
                SELECT qid, skid, t, lo,
                       explode({rng('year(lo_d) * 12 + month(lo_d) - 1', 'year(hi_d) * 12 + month(hi_d)')}) AS mi
                FROM e)
            UNION ALL
            SELECT qid, skid, t, lo, y * 100 AS pk FROM (
                SELECT qid, skid, t, lo, explode({rng('year(lo_d)', 'year(hi_d) + 1')}) AS y FROM e)""")
        sums = ", ".join(f"CAST(coalesce(sum({prorate(c)}), 0) AS DECIMAL(38,0)) AS {c}"
                         for c in ["i", "u", "e"] + sc)
        self.table("figs", f"""
            SELECT qid, {sums}
            FROM (SELECT q.qid, s.*, least(s.pe, q.t) - greatest(s.ps, q.lo) AS ov
                  FROM pkq q JOIN pstat s ON s.skid = q.skid AND s.pk = q.pk)
            WHERE ov > 0 GROUP BY qid""")
        s_sum = " + ".join(f"f.{c}" for c in sc) if sc else "0"
        self.table("fw", f"""
            SELECT q.rep, q.rg, q.o, q.t,
                   CAST(coalesce({s_sum}, 0) AS DECIMAL(38,0)) AS S,
                   CAST(coalesce(f.u, 0) AS DECIMAL(38,0)) AS U,
                   CAST(coalesce(f.i, 0) AS DECIMAL(38,0)) AS I,
                   CAST(coalesce(f.e, 0) AS DECIMAL(38,0)) AS E
                   {''.join(f', CAST(coalesce(f.{c}, 0) AS DECIMAL(38,0)) AS {c}' for c in sc)}
            FROM freq q LEFT JOIN figs f ON f.qid = q.qid""")
        # A national pool, and the rest of a country, read the national rows when the reporter has national
        # rows relevant to the heading inside the window; otherwise the sum of the region rows.
        self.table("pbase", """
            SELECT q.rep, q.o, q.t, CASE WHEN n.I > 0 OR n.E > 0 THEN '' ELSE '*' END AS b
            FROM (SELECT DISTINCT rep, o, t FROM preq) q
            LEFT JOIN fw n ON n.rep = q.rep AND n.rg = '' AND n.o = q.o AND n.t = q.t""")

        def finish(shares: tuple[str, str, str]) -> str:
            ps, pc, pu = (tidy(x) for x in shares)
            return (f"{ps} AS ps, {pc} AS pc, {pu} AS pu, "
                    f"CASE WHEN {ps} + {pc} > 0 THEN {ps} / ({ps} + {pc}) ELSE {ZERO} END AS prev")

        # National pools: their remainder is unknown.
        self.table("npool", f"""
            WITH n AS (
                SELECT q.rep, q.o, q.t, f.S AS n_S, f.U AS n_U, f.I AS n_I, f.E AS n_E,
                       coalesce(k.k, {ONE}) AS k
                FROM (SELECT DISTINCT rep, o, t FROM preq WHERE r IS NULL) q
                JOIN pbase b ON b.rep = q.rep AND b.o = q.o AND b.t = q.t
                JOIN fw f ON f.rep = q.rep AND f.rg = b.b AND f.o = q.o AND f.t = q.t
                LEFT JOIN ratio k ON k.o = q.o)
            SELECT rep, o, t, {finish(shares_sql("n", "k"))} FROM n WHERE n_I > 0 AND n_E > 0""")

        # Region pools, with the rest of the country (base minus the region, class by class, each floored at
        # zero, below 1e-6 USD taken as zero) carrying its sanctioned share into the region's remainder.
        def pos(x: str) -> str:
            return f"(CASE WHEN ({x}) < {NOISE} THEN CAST(0 AS DECIMAL(38,0)) ELSE ({x}) END)"

        x_s = " + ".join(pos(f"bw.{c} - rw.{c}") for c in sc) if sc else "CAST(0 AS DECIMAL(38,0))"
        self.table("rpool", f"""
            WITH own AS (
                SELECT q.rep, q.r, q.o, q.t, b.b, f.S AS w_S, f.U AS w_U, f.I AS w_I, f.E AS w_E,
                       coalesce(k.k, {ONE}) AS k
                FROM (SELECT DISTINCT rep, r, o, t FROM preq WHERE r IS NOT NULL) q
                JOIN pbase b ON b.rep = q.rep AND b.o = q.o AND b.t = q.t
                JOIN fw f ON f.rep = q.rep AND f.rg = q.r AND f.o = q.o AND f.t = q.t
                LEFT JOIN ratio k ON k.o = q.o
                WHERE f.I > 0 AND f.E > 0),
            rest AS (
                SELECT q.rep, q.r, q.o, q.t, q.k,
                       {x_s} AS x_S,
                       {pos("bw.U - rw.U")} AS x_U,
                       {pos("(bw.I - bw.S - bw.U) - (rw.I - rw.S - rw.U)")} AS x_C,
                       {pos("bw.E - rw.E")} AS x_E
                FROM own q
                JOIN fw bw ON bw.rep = q.rep AND bw.rg = q.b AND bw.o = q.o AND bw.t = q.t
                JOIN fw rw ON rw.rep = q.rep AND rw.rg = q.r AND rw.o = q.o AND rw.t = q.t),
            srest AS (
                SELECT rep, r, o, t,
                       CAST(x_S AS DOUBLE) / greatest(CAST(x_I AS DOUBLE), k * CAST(x_E AS DOUBLE)) AS s_rest
                FROM (SELECT *, x_S + x_U + x_C AS x_I FROM rest)
                WHERE x_I > 0 AND x_E > 0),
            j AS (
                SELECT own.*, coalesce(sr.s_rest, {ZERO}) AS s_rest
                FROM own LEFT JOIN srest sr
                  ON sr.rep = own.rep AND sr.r = own.r AND sr.o = own.o AND sr.t = own.t)
            SELECT rep, r, o, t, {finish(shares_sql("w", "k", "s_rest"))} FROM j""")
        if self.verbose:
            self.log(f"pools: {self.count('preq')} pool requests, {self.count('freq')} figure requests")

    # -----------------------------------------------------------------------------------------------------
    def constants(self) -> None:
        """Every term whose mix does not depend on another output: sanctioned parties, direct documented
        inputs, constant links, the pool. `cmix` holds their weighted sum per output."""
        z = ZERO
        self.table("cterms", f"""
            -- rule 4: a party located in a sanctioned country
            SELECT kid, {ONE} AS sd, {z} AS sl, {z} AS ss, {z} AS cd, {z} AS cl, {z} AS cs, {z} AS u
            FROM keys WHERE sanc
            UNION ALL
            -- rule 1: inbound shipments from a sanctioned party or declaring a sanctioned origin
            SELECT kid, dd * inv, {z}, {z}, {z}, {z}, {z}, {z} FROM kfig WHERE dd > 0
            UNION ALL
            -- rule 2: links with a constant mix
            SELECT l.kid,
                   {z},
                   CASE WHEN l.kind = 'S_DECL' THEN l.w ELSE {z} END,
                   CASE WHEN l.kind = 'COUNTRY' THEN l.w * coalesce(n.ps, {z}) ELSE {z} END,
                   {z},
                   CASE WHEN l.kind = 'COUNTRY' AND n.ps IS NULL THEN l.w ELSE {z} END,
                   CASE WHEN l.kind = 'COUNTRY' THEN l.w * coalesce(n.pc, {z}) ELSE {z} END,
                   CASE WHEN l.kind = 'UNKNOWN' THEN l.w
                        WHEN l.kind = 'COUNTRY' THEN l.w * coalesce(n.pu, {z}) ELSE {z} END
            FROM lk l LEFT JOIN npool n ON n.rep = l.sup_country AND n.o = l.o AND n.t = l.day
            WHERE l.kind <> 'UP' AND l.w > 0
            UNION ALL
            -- rule 3: the pool (region, else national, else unknown)
            SELECT k.kid, {z}, {z}, s.rem * coalesce(rp.ps, np.ps, {z}), {z}, {z},
                   s.rem * coalesce(rp.pc, np.pc, {z}),
                   s.rem * CASE WHEN rp.ps IS NULL AND np.ps IS NULL THEN {ONE} ELSE coalesce(rp.pu, np.pu) END
            FROM kfig k JOIN kshare s ON s.kid = k.kid
            LEFT JOIN rpool rp ON rp.rep = k.country AND rp.r = k.region AND rp.o = k.heading AND rp.t = k.day
            LEFT JOIN npool np ON np.rep = k.country AND np.o = k.heading AND np.t = k.day
            WHERE s.rem > 0""")
        # The pool an output takes (its statistical pool term weighs more than 1e-12, on a pool that exists)
        # and that pool's prevalence; outputs that take none are absent.
        self.table("kprev", f"""
            SELECT k.kid, coalesce(rp.prev, np.prev) AS prev
            FROM kfig k JOIN kshare s ON s.kid = k.kid
            LEFT JOIN rpool rp ON rp.rep = k.country AND rp.r = k.region AND rp.o = k.heading AND rp.t = k.day
            LEFT JOIN npool np ON np.rep = k.country AND np.o = k.heading AND np.t = k.day
            WHERE s.rem > {dbl(EPS)} AND (rp.prev IS NOT NULL OR np.prev IS NOT NULL)""")
        sums = ", ".join(f"coalesce(sum(t.{c}), {ZERO}) AS {c}" for c in COMPONENTS)
        self.table("cmix", f"""
            SELECT k.kid, k.stid, k.day, {sums}
            FROM keys k LEFT JOIN cterms t ON t.kid = k.kid GROUP BY k.kid, k.stid, k.day""")
        self.log("constants")

    # -----------------------------------------------------------------------------------------------------
    def iterate(self) -> None:
        """The recursion, iterated over the time-ordered tiers, semi-naively: a round recomputes the outputs
        of every stream fed by an output whose mix changed in the previous round (through an inbound shipment
        or a party link), until nothing changes. Each round's tables are checkpointed."""
        lag = self.lag
        tcols = ", ".join(f"{tidy(c)} AS {c}" for c in COMPONENTS)
        self.table("cur", f"SELECT kid, {tcols} FROM cmix")
        self.table("delta", "SELECT kid FROM keys")
        inb = ", ".join(f"s.vd * m.{c} AS x_{c}" for c in COMPONENTS)
        zeros = ", ".join(f"{ZERO} AS x_{c}" for c in COMPONENTS)
        wins = ", ".join(f"sum(x_{c}) OVER win AS d_{c}" for c in COMPONENTS)
        # A party link is declared evidence: the upstream documented share becomes declared.
        at_most = {"sd": ZERO, "sl": "m.sd + m.sl", "ss": "m.ss", "cd": ZERO, "cl": "m.cd + m.cl",
                   "cs": "m.cs", "u": "m.u"}
        lsum = ", ".join(f"sum(l.w * ({at_most[c]})) AS l_{c}" for c in COMPONENTS)
        total = ", ".join(
            tidy(f"(c.{c} + coalesce(d.d_{c}, {ZERO}) * f.inv + coalesce(l.l_{c}, {ZERO}))") + f" AS {c}"
            for c in COMPONENTS)
        differs = " OR ".join(f"n.{c} <> m.{c}" for c in COMPONENTS)
        keep = ", ".join(f"coalesce(n.{c}, m.{c}) AS {c}" for c in COMPONENTS)
        while True:
            self.rounds += 1
            self.table("aff", """
                SELECT DISTINCT stid FROM (
                    SELECT s.stid FROM seq_nd s WHERE s.src IN (SELECT kid FROM delta)
                    UNION ALL
                    SELECT l.stid FROM lkup l WHERE l.up IN (SELECT kid FROM delta))""")
            self.table("newm", f"""
                WITH u AS (
                    SELECT s.stid, s.day, CAST(NULL AS BIGINT) AS kid, {inb}
                    FROM (SELECT * FROM seq_nd WHERE stid IN (SELECT stid FROM aff)) s
                    JOIN cur m ON m.kid = s.src
                    UNION ALL
                    SELECT c.stid, c.day, c.kid, {zeros}
                    FROM cmix c WHERE c.stid IN (SELECT stid FROM aff)),
                w AS (
                    SELECT kid, {wins} FROM u
                    WINDOW win AS (PARTITION BY stid ORDER BY day RANGE BETWEEN {lag} PRECEDING AND 1 PRECEDING)),
                d AS (SELECT * FROM w WHERE kid IS NOT NULL),
                l AS (SELECT l.kid, {lsum}
                      FROM (SELECT * FROM lkup WHERE stid IN (SELECT stid FROM aff)) l
                      JOIN cur m ON m.kid = l.up GROUP BY l.kid)
                SELECT c.kid, {total}
                FROM d JOIN cmix c ON c.kid = d.kid JOIN kfig f ON f.kid = d.kid LEFT JOIN l ON l.kid = d.kid""")
            self.table("delta", f"SELECT n.kid FROM newm n JOIN cur m ON m.kid = n.kid WHERE {differs}")
            changed = self.count("delta")
            if self.verbose:
                self.log(f"round {self.rounds}: {self.count('newm')} recomputed, {changed} changed")
            if changed == 0:
                break
            self.table("cur", f"""
                SELECT m.kid, {keep} FROM cur m
                LEFT JOIN (SELECT * FROM newm WHERE kid IN (SELECT kid FROM delta)) n ON n.kid = m.kid""")

    # -----------------------------------------------------------------------------------------------------
    def counterparties(self) -> None:
        """SPEC §3 "Counterparties": for every output (shipper P, heading o, day t), the shipments in
        [t - counterparty_days, t) between P and a party located in a sanctioned country, either way, whatever
        their value; and how many of them carry an HS code relevant to o."""
        cpd = int(self.st["counterparty_days"])
        self.table("cpev", """
            SELECT s.sp AS pn, s.day, s.hs FROM ship s JOIN parties c ON c.pn = s.cp WHERE c.sanc
            UNION ALL
            SELECT s.cp, s.day, s.hs FROM ship s WHERE s.shipper_sanc""")
        self.table("kcp", f"""
            WITH st AS (SELECT DISTINCT stid, sp, heading AS o FROM keys WHERE sp IN (SELECT pn FROM cpev)),
            u AS (
                SELECT st.stid, e.day, 1 AS n, CASE WHEN rel.o IS NULL THEN 0 ELSE 1 END AS nr,
                       CAST(NULL AS BIGINT) AS kid
                FROM st JOIN cpev e ON e.pn = st.sp LEFT JOIN rel ON rel.hs = e.hs AND rel.o = st.o
                UNION ALL
                SELECT k.stid, k.day, 0, 0, k.kid FROM keys k WHERE k.stid IN (SELECT stid FROM st)),
            w AS (
                SELECT kid, sum(n) OVER win AS n, sum(nr) OVER win AS nr FROM u
                WINDOW win AS (PARTITION BY stid ORDER BY day RANGE BETWEEN {cpd} PRECEDING AND 1 PRECEDING))
            SELECT kid, n, nr FROM w WHERE kid IS NOT NULL AND n > 0""")
        if self.verbose:
            self.log(f"counterparties: {self.count('cpev')} records, {self.count('kcp')} outputs with one")

    # -----------------------------------------------------------------------------------------------------
    def write(self, out: str | None) -> None:
        sev = self.st["severity"]
        med, high = dbl(sev["medium"]), dbl(sev["high"])
        eps = dbl(EPS)
        # A shipment that itself declares a sanctioned origin carries sanctioned goods on its own document:
        # sanctioned 1, documented (SPEC §3 rule 4); it takes no pool: no prevalence.
        own = {c: (ONE if c == "sd" else ZERO) for c in COMPONENTS}
        cols = ", ".join(f"CASE WHEN s.decl_sanc THEN {own[c]} ELSE m.{c} END AS {c}" for c in COMPONENTS)
        rules = [
            ("sanctioned-exposure", f"""CASE WHEN sanctioned <= {eps} THEN NULL
                 WHEN sanctioned >= {high} OR sd + sl > {eps} THEN 'high'
                 WHEN sanctioned >= {med} THEN 'medium' ELSE 'low' END"""),
            ("regional-prevalence", f"""CASE WHEN prevalence IS NULL OR prevalence <= {eps} THEN NULL
                 WHEN prevalence >= {med} AND coverage < 0.5D THEN 'medium' ELSE 'low' END"""),
            ("sanctioned-counterparty", "CASE WHEN cp_n > 0 THEN (CASE WHEN cp_rel > 0 THEN 'high' "
                                        "ELSE 'medium' END) END"),
            ("sanctioned-consignee", "CASE WHEN consignee_sanc THEN 'high' END"),
            ("origin-mislabel", f"""CASE WHEN origin IS NOT NULL AND NOT {in_list('origin', self.so)}
                 AND sd + sl >= {med} THEN 'high' END"""),
            ("low-coverage", "CASE WHEN coverage < 0.5D THEN 'low' END"),
        ]
        sevs = ", ".join(f"{e} AS f{i}" for i, (_, e) in enumerate(rules))
        flags = ", ".join(f"CASE WHEN f{i} IS NOT NULL THEN '{r}' END" for i, (r, _) in enumerate(rules))
        fsev = ", ".join(f"f{i}" for i in range(len(rules)))
        rank = " ".join(f"WHEN array_contains(array({fsev}), '{x}') THEN '{x}'" for x in ("high", "medium", "low"))
        df = self.spark.sql(f"""
            WITH sm AS (
                SELECT s.sid, s.origin, {cols},
                       CASE WHEN NOT s.decl_sanc THEN p.prev END AS prevalence,
                       coalesce(cp.n, 0) AS cp_n, coalesce(cp.nr, 0) AS cp_rel, c.sanc AS consignee_sanc
                FROM ship_key s JOIN cur m ON m.kid = s.kid
                JOIN parties c ON c.pn = s.cp
                LEFT JOIN kprev p ON p.kid = s.kid LEFT JOIN kcp cp ON cp.kid = s.kid),
            m AS (
                SELECT sm.*, sd + sl + ss AS sanctioned, cd + cl + cs AS clean, sd + sl + cd + cl AS coverage
                FROM sm),
            r AS (SELECT m.*, {sevs} FROM m)
            SELECT sid AS shipment_id, sanctioned, clean, u AS unknown, sd AS documented, sl AS declared,
                   ss AS statistical, coverage, prevalence,
                   concat_ws(';', {flags}) AS flags,
                   CASE {rank} ELSE 'none' END AS severity,
                   concat_ws(';', {fsev}) AS flag_severities
            FROM r ORDER BY shipment_id""")
        f = open(out, "w", encoding="utf-8", newline="") if out else sys.stdout
        try:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(df.columns)
            n = 0
            for row in df.toLocalIterator(prefetchPartitions=True):
                w.writerow(row)  # floats as repr (shortest round trip), None as an empty field
                n += 1
        finally:
            if out:
                f.close()
        self.log(f"written: {n} shipments ({self.rounds} rounds)")


def spark_session(master: str, driver_memory: str, partitions: int):
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master(master).appName("origintrace-twin")
             .config("spark.driver.memory", driver_memory)
             .config("spark.sql.shuffle.partitions", str(partitions))
             .config("spark.default.parallelism", str(partitions))
             .config("spark.sql.ansi.enabled", "true")            # decimal overflow is an error, never NULL
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.adaptive.enabled", "true")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--parquet", metavar="DIR", required=True,
                    help="the Parquet files of `origintrace export --format parquet -o DIR`")
    ap.add_argument("--data", help="a dataset directory whose origintrace.toml applies when the Parquet files "
                                   "carry no settings")
    ap.add_argument("-o", "--output", help="CSV file (default: stdout)")
    ap.add_argument("--config", help="settings file laid over the export's")
    ap.add_argument("--lag-days", type=int)
    ap.add_argument("--master", default="local[2]", help="Spark master (default: local[2])")
    ap.add_argument("--driver-memory", default="4g", help="spark.driver.memory (default: 4g)")
    ap.add_argument("--partitions", type=int, default=8, help="spark.sql.shuffle.partitions (default: 8)")
    ap.add_argument("--scratch", metavar="DIR",
                    help="where the intermediate tables are written (a temporary directory under DIR, removed at "
                         "the end; default: the system's temporary directory)")
    ap.add_argument("--link-own-heading", action="store_true",
                    help="a party link reads the mix of the supplier's latest shipment whose own heading starts "
                         "with the link's (duckdb_model.py --link-own-heading)")
    ap.add_argument("-v", "--verbose", action="count", default=0,
                    help="timings and rounds on stderr (-vv: every statement)")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    spark = spark_session(a.master, a.driver_memory, a.partitions)
    if a.verbose:
        print(f"[{time.perf_counter() - t0:8.3f}s] Spark {spark.version} started ({a.master})", file=sys.stderr)
    try:
        st = default_settings()
        from_files = parquet_settings(spark, a.parquet)
        own = os.path.join(a.data, "origintrace.toml") if a.data else None
        if from_files is not None:
            st = overlay_raw(st, from_files)
        elif own and os.path.exists(own):
            st = overlay(st, own)
        if a.config:
            st = overlay(st, a.config)
        if a.lag_days is not None:
            st["lag_days"] = a.lag_days
        scratch = tempfile.mkdtemp(prefix="spark-twin-", dir=a.scratch)
        try:
            Twin(spark, a.parquet, st, scratch, a.verbose, link_own_heading=a.link_own_heading,
                 t0=t0).run(a.output)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    finally:
        if a.verbose:
            print(f"[{time.perf_counter() - t0:8.3f}s] stopping Spark", file=sys.stderr)
        spark.stop()
    if a.verbose:
        print(f"[{time.perf_counter() - t0:8.3f}s] done", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
