#!/usr/bin/env python3
"""The SQL twin of origintrace's attribution model (SPEC §3, model v2), written in DuckDB SQL from the SPEC text.

It reads a canonical dataset directory with DuckDB's CSV reader and computes, for every shipment, the mix of
its shipper's inputs (sanctioned / clean / unknown, the sanctioned share by evidence grade, coverage), the
prevalence of the pool it takes, and the flags `sanctioned-exposure`, `regional-prevalence`,
`sanctioned-counterparty`, `sanctioned-consignee`, `origin-mislabel` and `low-coverage` with their severities.
It shares no code with the Rust engine and reads none of its output: it is the independent check of the
engine (benches/peers/compare.py) and the peer to beat.

How it computes (docs/twin.md has the long version):
  * outputs are (shipper, 4-digit heading, date); every static part of an output's decomposition is computed
    once with set operations: D and O are RANGE-framed window sums (O over the shipper's outputs of every
    overlapping heading), the supplier link a party link stands for is an ASOF join, the statistics pools
    are an equi-join on (reporter, scope, heading, period) of the periods each window touches, pro-rated in
    exact fixed point (HUGEINT, 1e-18 USD), and counterparties are a windowed count per output stream;
  * the recursion (an output's mix depends on its upstream outputs' mixes) is iterated over the time-ordered
    tiers, semi-naively: each round recomputes only the outputs downstream of a mix that changed in the
    previous round, until nothing changes. Inputs are strictly earlier than outputs, so this ends after as
    many rounds as the longest chain.

Usage: python3 benches/peers/duckdb_model.py --data DIR [-o OUT.csv] [--config FILE] [--lag-days N]
       python3 benches/peers/duckdb_model.py --parquet DIR [...]   (the files of `origintrace export --format
       parquet -o DIR` instead of CSV; the settings the export used, kept in mixes.parquet, then --config)
Output CSV: shipment_id,sanctioned,clean,unknown,documented,declared,statistical,coverage,prevalence,flags,
severity,flag_severities (sorted by shipment_id; `prevalence` empty when the output takes no pool; `flags` is
`;`-joined among the six rules in the order above, `flag_severities` their severities in the same order,
`severity` the highest, `none` when there is no flag).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
import tomllib

import duckdb

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULTS_TOML = os.path.join(HERE, "..", "..", "data", "origintrace.toml")

EPS = 1e-12
COMPONENTS = ["sd", "sl", "ss", "cd", "cl", "cs", "u"]  # sanctioned / clean by grade, unknown

# Canonical columns per file (SPEC §2); anything else is ignored.
FILES = {
    "parties": ("parties.csv", ["party_id", "name", "country", "region"]),
    "shipments": (
        "shipments.csv",
        ["shipment_id", "date", "shipper", "consignee", "hs_code", "value", "currency", "origin_country"],
    ),
    "trade_flows": (
        "trade_flows.csv",
        ["flow_id", "period", "reporter", "region", "partner", "flow", "hs_code", "value", "currency"],
    ),
    "supplier_links": (
        "supplier_links.csv",
        ["link_id", "buyer", "supplier", "hs_code", "share", "valid_from", "valid_to"],
    ),
    "rates": ("rates.csv", ["currency", "period", "usd_per_unit"]),
}


# ---------------------------------------------------------------------------------------------------------
# Settings: the defaults of data/origintrace.toml, the dataset's origintrace.toml over them, then --config.


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


def parquet_settings(data: str) -> dict | None:
    """The settings an `origintrace export --format parquet` computed its mixes with: the JSON it keeps in
    mixes.parquet's key-value metadata (`origintrace.settings`), so a Parquet directory carries its own."""
    path = os.path.join(data, "mixes.parquet")
    if not os.path.exists(path):
        return None
    rows = duckdb.connect(":memory:").execute(
        "SELECT decode(value) FROM parquet_kv_metadata(?) WHERE decode(key) = 'origintrace.settings'",
        [path]).fetchall()
    return json.loads(rows[0][0]) if rows and rows[0][0] else None


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


# ---------------------------------------------------------------------------------------------------------
# Reading: DuckDB's CSV reader, every column as text; headers matched case-insensitively, values trimmed.


def load_csv(con, data: str, table: str) -> None:
    fname, cols = FILES[table]
    path = os.path.join(data, fname)
    if not os.path.exists(path):
        con.execute(f"CREATE TABLE raw_{table} AS SELECT "
                    + ", ".join(f"NULL::VARCHAR AS {c}" for c in cols) + " WHERE false")
        return
    if os.path.getsize(path) == 0:
        raise SystemExit(f"{path}: empty file")
    with open(path, encoding="utf-8-sig", newline="") as f:
        header = next(csv.reader(f))
    names = [h.strip().lower() for h in header]
    spec = {f"c{i}": "VARCHAR" for i in range(len(names))}
    sel = []
    for c in cols:
        if c in names:
            sel.append(f"NULLIF(trim(c{names.index(c)}), '') AS {c}")
        else:
            sel.append(f"NULL::VARCHAR AS {c}")
    con.execute(
        f"CREATE TABLE raw_{table} AS SELECT {', '.join(sel)} FROM read_csv(?, header = true, "
        f"delim = ',', quote = '\"', escape = '\"', auto_detect = false, columns = {spec!r})",
        [path],
    )


def load_parquet(con, data: str, table: str) -> None:
    """The same raw table from `origintrace export --format parquet` (docs/parquet.md): every column cast to
    text, so the rest of the model runs unchanged on either source. DECIMAL becomes its exact digits, DATE
    `YYYY-MM-DD`, DOUBLE (a link's share) its shortest round-trip text: nothing is rounded on the way."""
    _, cols = FILES[table]
    path = os.path.join(data, f"{table}.parquet")
    if not os.path.exists(path):
        con.execute(f"CREATE TABLE raw_{table} AS SELECT "
                    + ", ".join(f"NULL::VARCHAR AS {c}" for c in cols) + " WHERE false")
        return
    present = {r[0].lower() for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [path]).fetchall()}
    sel = [f"NULLIF(trim(CAST(\"{c}\" AS VARCHAR)), '') AS {c}" if c in present else f"NULL::VARCHAR AS {c}"
           for c in cols]
    con.execute(f"CREATE TABLE raw_{table} AS SELECT {', '.join(sel)} FROM read_parquet(?)", [path])


def has_file(data: str, table: str) -> bool:
    return os.path.exists(os.path.join(data, FILES[table][0]))


def has_parquet(data: str, table: str) -> bool:
    return os.path.exists(os.path.join(data, f"{table}.parquet"))


# ---------------------------------------------------------------------------------------------------------
# SQL helpers.


def tidy(x: str) -> str:
    """SPEC §3: shares below 1e-12 are 0; each share clamped into [0, 1] (the engine's Mix::tidy)."""
    return f"(CASE WHEN abs({x}) < {EPS!r} THEN 0.0 ELSE least(greatest({x}, 0.0), 1.0) END)"


def shares_sql(p: str, k: str, s_rest: str | None = None) -> tuple[str, str, str]:
    """Pool shares (SPEC §3 v2) from figures p_S, p_U, p_I, p_E (HUGEINT fixed point) and the input ratio
    `k` (SQL, DOUBLE): `T = max(I, k·E)`; sanctioned S/T, unknown U/T, clean (I-S-U)/T, and the remainder
    R = (T-I)/T, which no statistics row explains. R is unknown, except that a region pool carries the rest
    of the country's sanctioned share `s_rest` (SQL, 0 when there is no rest-of-country pool) into it:
    R·s_rest sanctioned, R·(1 - s_rest) unknown. Returns the SQL expressions of (sanctioned, clean, unknown)."""
    t = f"greatest({p}_I::DOUBLE, {k} * {p}_E::DOUBLE)"
    s = f"({p}_S::DOUBLE / {t})"
    u = f"({p}_U::DOUBLE / {t})"
    c = f"greatest(({p}_I - {p}_S - {p}_U)::DOUBLE / {t}, 0.0)"
    r = f"greatest(1.0 - {p}_I::DOUBLE / {t}, 0.0)"
    if s_rest is None:
        return s, c, f"{u} + {r}"
    return f"{s} + {r} * {s_rest}", c, f"{u} + {r} * (1.0 - {s_rest})"


def named(exprs: tuple[str, str, str], names: tuple[str, str, str]) -> str:
    return ", ".join(f"{e} AS {n}" for e, n in zip(exprs, names))


def col(c: str) -> str:
    """A column name for a sanctioned partner's figure."""
    return "s_" + "".join(ch for ch in c.lower() if ch.isalnum())


def prorate(x: str) -> str:
    """Pro-rating of a HUGEINT figure by `ov` of `days` days, rounded down, with no intermediate above 14x."""
    return f"(CASE WHEN ov >= days THEN {x} ELSE ({x} // days) * ov + (({x} % days) * ov) // days END)"


# Below a millionth of a dollar a difference of statistics sums is rounding noise (the engine's rule), in
# units of 1e-18 USD.
NOISE = 10**12


class Twin:
    def __init__(self, data: str, st: dict, threads: int | None = None, verbose: int = 0,
                 parquet: bool = False, link_own_heading: bool = False):
        self.data = data
        self.link_own_heading = link_own_heading
        self.parquet = parquet
        self.st = st
        self.lag = int(st["lag_days"])
        self.scols = [col(c) for c in dict.fromkeys(st["sanctioned_origins"])]
        self.verbose = verbose
        self.con = duckdb.connect(":memory:")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self.con.execute("SET preserve_insertion_order = false")
        self.con.execute("SET enable_progress_bar = false")
        self.t0 = time.perf_counter()
        self.rounds = 0

    def log(self, msg: str) -> None:
        if self.verbose:
            print(f"[{time.perf_counter() - self.t0:8.3f}s] {msg}", file=sys.stderr)

    def sql(self, q: str, params=None):
        if self.verbose > 1:
            t = time.perf_counter()
            r = self.con.execute(q, params or [])
            print(f"           {time.perf_counter() - t:7.3f}s  {' '.join(q.split())[:70]}", file=sys.stderr)
            return r
        return self.con.execute(q, params or [])

    def count(self, table: str) -> int:
        return self.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

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
    def load(self) -> None:
        """The canonical tables, typed: parties and shipments keyed by integers, money as exact decimals (a
        non-USD value takes the rate of its month, else of its year), dates as day numbers."""
        con, st = self.con, self.st
        load, has = (load_parquet, has_parquet) if self.parquet else (load_csv, has_file)
        for t in FILES:
            load(con, self.data, t)
        if not any(has(self.data, t) for t in FILES):
            kind = "Parquet files (origintrace export --format parquet)" if self.parquet else "dataset files"
            raise SystemExit(f"{self.data}: no {kind}")
        con.execute("CREATE TABLE so AS SELECT DISTINCT unnest(?::VARCHAR[]) AS c", [st["sanctioned_origins"]])
        con.execute("CREATE TABLE tp AS SELECT DISTINCT unnest(?::VARCHAR[]) AS c", [st["transit_partners"]])
        hs_rows = [(hs_norm(o), hs_norm(p)) for o, ps in st["hs_inputs"].items() for p in ps]
        con.execute("CREATE TABLE hs_inputs (o VARCHAR, p VARCHAR)")
        if hs_rows:
            con.executemany("INSERT INTO hs_inputs VALUES (?, ?)", hs_rows)
        con.execute("CREATE TABLE ratio (o VARCHAR, k DOUBLE)")
        if st["input_ratio"]:
            con.executemany("INSERT INTO ratio VALUES (?, ?)", list(st["input_ratio"].items()))

        self.sql("""
            CREATE TABLE parties AS
            SELECT (row_number() OVER ())::INTEGER AS pn, party_id AS pid, upper(country) AS country,
                   upper(region) AS region, upper(country) IN (SELECT c FROM so) AS sanc
            FROM raw_parties""")
        self.sql("""
            CREATE TABLE rates AS
            SELECT upper(currency) AS cur, period, CAST(usd_per_unit AS DECIMAL(14,10)) AS rate
            FROM raw_rates""")
        self.sql("""
            CREATE TABLE ship AS
            WITH s AS (
                SELECT shipment_id AS sid, CAST(date AS DATE) AS dt, shipper, consignee,
                       replace(replace(hs_code, '.', ''), ' ', '') AS hs,
                       CAST(replace(value, ',', '') AS DECIMAL(24,8)) AS val,
                       coalesce(upper(currency), 'USD') AS cur, upper(origin_country) AS origin
                FROM raw_shipments)
            SELECT s.sid, (s.dt - DATE '1970-01-01')::INTEGER AS day, sp.pn AS sp, cp.pn AS cp, s.hs,
                   left(s.hs, 4) AS heading, s.origin,
                   CAST(CASE WHEN s.cur = 'USD' THEN s.val
                             ELSE s.val * coalesce(rm.rate, ry.rate) END AS DECIMAL(38,12)) AS v,
                   coalesce(s.origin IN (SELECT c FROM so), false) AS decl_sanc,
                   sp.sanc OR coalesce(s.origin IN (SELECT c FROM so), false) AS direct,
                   sp.sanc AS shipper_sanc
            FROM s
            JOIN parties sp ON sp.pid = s.shipper
            JOIN parties cp ON cp.pid = s.consignee
            LEFT JOIN rates rm ON rm.cur = s.cur AND rm.period = strftime(s.dt, '%Y-%m')
            LEFT JOIN rates ry ON ry.cur = s.cur AND ry.period = strftime(s.dt, '%Y')""")
        if self.count("ship") != self.count("raw_shipments"):
            raise SystemExit("shipments.csv: a shipper or consignee is not in parties.csv")
        if self.count("ship WHERE v IS NULL"):
            raise SystemExit("shipments.csv: a non-USD value without a rate for its month or year")
        # Statistics rows: the period as a half-open day range [ps, pe), value in USD.
        self.sql("""
            CREATE TABLE flows AS
            WITH f AS (
                SELECT (row_number() OVER ())::INTEGER AS fid, upper(reporter) AS rep,
                       coalesce(upper(region), '') AS rg, upper(partner) AS partner, lower(flow) AS flow,
                       replace(replace(hs_code, '.', ''), ' ', '') AS hs, period,
                       length(period) = 4 AS is_year,
                       CAST(left(period, 4) AS INTEGER) AS y,
                       CASE WHEN length(period) = 4 THEN 0 ELSE CAST(substr(period, 6, 2) AS INTEGER) END AS m,
                       CAST(replace(value, ',', '') AS DECIMAL(24,8)) AS val,
                       coalesce(upper(currency), 'USD') AS cur
                FROM raw_trade_flows),
            g AS (
                SELECT f.*, make_date(y, greatest(m, 1), 1) AS ps_date,
                       CASE WHEN is_year THEN make_date(y + 1, 1, 1)
                            ELSE make_date(y, m, 1) + INTERVAL 1 MONTH END AS pe_date
                FROM f)
            SELECT g.fid, g.rep, g.rg, g.partner, g.flow, g.hs, g.is_year, g.y, g.m,
                   g.y * 100 + g.m AS pk,
                   (g.ps_date - DATE '1970-01-01')::INTEGER AS ps,
                   (CAST(g.pe_date AS DATE) - DATE '1970-01-01')::INTEGER AS pe,
                   CAST(CASE WHEN g.cur = 'USD' THEN g.val
                             ELSE g.val * coalesce(rm.rate, ry.rate) END AS DECIMAL(38,12)) AS v
            FROM g
            LEFT JOIN rates rm ON rm.cur = g.cur AND NOT g.is_year AND rm.period = g.period
            LEFT JOIN rates ry ON ry.cur = g.cur AND ry.period = left(g.period, 4)""")
        if self.count("flows WHERE v IS NULL"):
            raise SystemExit("trade_flows.csv: a non-USD value without a rate for its month or year")
        self.sql("""
            CREATE TABLE links AS
            SELECT (row_number() OVER ())::INTEGER AS lid, b.pn AS buyer, sp.pn AS sup, sp.sanc AS party_sanc,
                   CASE WHEN starts_with(l.supplier, 'country:') THEN upper(trim(substr(l.supplier, 9))) END
                     AS sup_country,
                   replace(replace(l.hs_code, '.', ''), ' ', '') AS hs,
                   CAST(l.share AS DOUBLE) AS share,
                   (CAST(l.valid_from AS DATE) - DATE '1970-01-01')::INTEGER AS vf,
                   (CAST(l.valid_to AS DATE) - DATE '1970-01-01')::INTEGER AS vt
            FROM raw_supplier_links l
            JOIN parties b ON b.pid = l.buyer
            LEFT JOIN parties sp ON sp.pid = l.supplier""")
        self.log(f"loaded: {self.count('ship')} shipments, {self.count('flows')} statistics rows, "
                 f"{self.count('links')} links")

    # -----------------------------------------------------------------------------------------------------
    def outputs(self) -> None:
        """Outputs (keys): (shipper, heading, day), grouped in streams (shipper, heading); each shipment's key;
        the relevance of every HS code to every output heading."""
        # A party link reads "the supplier's mix for the link's heading at the date of its latest output of
        # that heading" (SPEC §3 rule 2), and the outputs of a heading are the shipments whose code overlaps it:
        # a supplier that shipped only code `67` on a day has an output of 6704 that day, and a chapter link
        # `67` reads the mix for `67` even where the supplier shipped 6704. Where the supplier has no key of
        # the link's heading on such a day, one is added with no value of its own (`phantom`): it is computed
        # like any output (its O counts the overlapping shipments) and no shipment takes it.
        # (--link-own-heading: the engine's reading instead, see docs/twin.md.)
        phantom = "" if self.link_own_heading else """
            UNION ALL
            SELECT DISTINCT k.sp, l.lh, k.day, 0::DECIMAL(38,12), false, true
            FROM (SELECT DISTINCT sup, left(hs, 4) AS lh FROM links
                  WHERE sup IS NOT NULL AND NOT party_sanc) l
            JOIN k ON k.sp = l.sup AND k.heading <> l.lh
                  AND (starts_with(k.heading, l.lh) OR starts_with(l.lh, k.heading))
            WHERE NOT EXISTS (SELECT 1 FROM k k2 WHERE k2.sp = k.sp AND k2.heading = l.lh AND k2.day = k.day)"""
        self.sql(f"""
            CREATE TABLE keys AS
            WITH k AS (SELECT sp, heading, day, sum(v) AS kv, bool_or(shipper_sanc) AS sanc
                       FROM ship GROUP BY ALL),
            ka AS (SELECT *, false AS phantom FROM k{phantom})
            SELECT (row_number() OVER (ORDER BY day, sp, heading))::INTEGER AS kid,
                   (dense_rank() OVER (ORDER BY sp, heading))::INTEGER AS stid,
                   ka.*, p.country, p.region
            FROM ka JOIN parties p ON p.pn = ka.sp""")
        self.sql("""
            CREATE TABLE ship_key AS
            SELECT s.sid, s.cp, s.hs, s.day, s.v, s.direct, s.decl_sanc, s.origin, k.kid
            FROM ship s JOIN keys k ON k.sp = s.sp AND k.heading = s.heading AND k.day = s.day""")
        # Relevant inputs of heading o: the prefixes of hs_inputs[o] and o itself.
        self.sql("""
            CREATE TABLE pre AS
            SELECT DISTINCT o, p FROM (
                SELECT DISTINCT heading AS o, heading AS p FROM keys
                UNION ALL
                SELECT h.o, h.p FROM hs_inputs h WHERE h.o IN (SELECT heading FROM keys))""")
        # Every distinct HS code against every (o, prefix): "overlaps" = one is a prefix of the other. The
        # distinct codes are few whatever the row count, so this small cross product replaces a range join.
        self.sql("""
            CREATE TABLE rel AS
            WITH codes AS (SELECT DISTINCT hs FROM (SELECT hs FROM ship UNION ALL SELECT hs FROM links
                                                    UNION ALL SELECT hs FROM flows WHERE flow = 'import'))
            SELECT DISTINCT codes.hs, pre.o FROM codes, pre
            WHERE starts_with(codes.hs, pre.p) OR starts_with(pre.p, codes.hs)""")
        self.log(f"outputs: {self.count('keys')} keys ({self.count('keys WHERE phantom')} for party links only)")

    # -----------------------------------------------------------------------------------------------------
    def documented(self) -> None:
        """Rule 1: D (relevant inbound in [t-lag, t)) and O (outbound of the heading in [t-lag, t]) as
        RANGE-framed window sums over each stream; the inbound rows the recursion reads."""
        lag = self.lag
        # seq: each stream's relevant inbound shipments (streams of parties not in a sanctioned country).
        self.sql("""
            CREATE TABLE seq AS
            WITH streams AS (SELECT DISTINCT stid, sp, heading AS o FROM keys WHERE NOT sanc)
            SELECT st.stid, d.day, d.v, d.direct, d.kid AS src
            FROM streams st
            JOIN ship_key d ON d.cp = st.sp
            JOIN rel ON rel.hs = d.hs AND rel.o = st.o""")
        self.sql(f"""
            CREATE TABLE kdoc AS
            WITH u AS (
                SELECT stid, day, v, CASE WHEN direct THEN v ELSE 0 END AS vdir, NULL::INTEGER AS kid FROM seq
                UNION ALL
                SELECT stid, day, 0, 0, kid FROM keys WHERE NOT sanc),
            w AS (
                SELECT kid, sum(v) OVER win AS d, sum(vdir) OVER win AS dd FROM u
                WINDOW win AS (PARTITION BY stid ORDER BY day RANGE BETWEEN {lag} PRECEDING AND 1 PRECEDING))
            SELECT kid, coalesce(d, 0) AS d, coalesce(dd, 0) AS dd FROM w WHERE kid IS NOT NULL""")
        # O counts every outbound shipment of the shipper whose HS code overlaps the heading (SPEC §3 v2,
        # "Outputs of o"): a shipment coded `67` is an output of 6704, and the outputs of `67` are all of
        # chapter 67. Key headings are 4 digits or the shorter code itself, so a code overlaps `o` exactly
        # when its key's heading does: the other overlapping keys of the shipper join each stream.
        self.sql("""
            CREATE TABLE ovh AS
            WITH h AS (SELECT DISTINCT heading FROM keys)
            SELECT a.heading AS o, b.heading AS h FROM h a, h b
            WHERE a.heading <> b.heading
              AND (starts_with(a.heading, b.heading) OR starts_with(b.heading, a.heading))""")
        self.sql(f"""
            CREATE TABLE kfig AS
            WITH st AS (SELECT DISTINCT stid, sp, heading AS o FROM keys WHERE NOT sanc),
            u AS (
                SELECT st.stid, k.day, k.kv, NULL::INTEGER AS kid
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
                       kd.d::DOUBLE AS d, kd.dd::DOUBLE AS dd,
                       greatest(kd.d::DOUBLE, coalesce(r.k, 1.0) * o.ov::DOUBLE) AS denom
                FROM keys k JOIN kdoc kd USING (kid) JOIN o USING (kid)
                LEFT JOIN ratio r ON r.o = k.heading)
            SELECT f.*,
                   CASE WHEN denom > 0 THEN 1.0 / denom ELSE 0.0 END AS inv,
                   greatest(1.0 - CASE WHEN denom > 0 THEN d / denom ELSE 0.0 END, 0.0) AS r
            FROM f""")
        # The rows the recursion reads: inbound shipments that carry their shipper's mix.
        self.sql("CREATE TABLE seq_nd AS SELECT stid, day, v::DOUBLE AS vd, src FROM seq WHERE NOT direct")
        self.log(f"documented: {self.count('seq')} inbound rows, {self.count('seq_nd')} recursive")

    # -----------------------------------------------------------------------------------------------------
    def links(self) -> None:
        """Rule 2: supplier links valid at t and relevant; shares scaled to 1 when over 1; what each stands
        for."""
        lag = self.lag
        self.sql("""
            CREATE TABLE lk0 AS
            SELECT k.kid, k.heading AS o, k.day, l.lid, l.sup, l.sup_country, left(l.hs, 4) AS lh, l.share,
                   l.sup_country IN (SELECT c FROM so) AS country_sanc, coalesce(l.party_sanc, false) AS party_sanc
            FROM kfig k
            JOIN links l ON l.buyer = k.sp
            JOIN rel ON rel.hs = l.hs AND rel.o = k.heading
            WHERE (l.vf IS NULL OR l.vf <= k.day) AND (l.vt IS NULL OR k.day <= l.vt)""")
        self.sql("""
            CREATE TABLE kshare AS
            SELECT k.kid, k.r, coalesce(s.share_sum, 0.0) AS share_sum,
                   CASE WHEN s.share_sum > 1.0 THEN 1.0 / s.share_sum ELSE 1.0 END AS scale,
                   k.r * (1.0 - least(1.0, coalesce(s.share_sum, 0.0))) AS rem
            FROM kfig k LEFT JOIN (SELECT kid, sum(share) AS share_sum FROM lk0 GROUP BY kid) s USING (kid)""")
        # A party link takes the supplier's mix for the link's heading at its latest output of that heading
        # dated in [t - lag, t): the keys of the stream (supplier, link heading), phantoms included, are exactly
        # the days of such outputs; an ASOF join on the day finds the latest.
        if self.link_own_heading:
            # The engine's reading: the latest shipment whose own heading starts with the link's (ties: the
            # largest shipment_id), with the mix of that shipment's own key.
            self.sql("""
                CREATE TABLE cand AS
                WITH pairs AS (SELECT DISTINCT sup, lh FROM lk0 WHERE sup IS NOT NULL AND NOT party_sanc)
                SELECT p.sup, p.lh, s.day, arg_max(sk.kid, s.sid) AS ukid
                FROM pairs p
                JOIN ship s ON s.sp = p.sup AND starts_with(s.heading, p.lh)
                JOIN ship_key sk ON sk.sid = s.sid
                GROUP BY ALL""")
        else:
            self.sql("""
                CREATE TABLE cand AS
                WITH pairs AS (SELECT DISTINCT sup, lh FROM lk0 WHERE sup IS NOT NULL AND NOT party_sanc)
                SELECT p.sup, p.lh, k.day, k.kid AS ukid
                FROM pairs p JOIN keys k ON k.sp = p.sup AND k.heading = p.lh""")
        self.sql(f"""
            CREATE TABLE lk AS
            WITH a AS (
                SELECT lk0.*, c.ukid, c.day AS uday
                FROM lk0 ASOF LEFT JOIN cand c ON c.sup = lk0.sup AND c.lh = lk0.lh AND lk0.day > c.day)
            SELECT a.kid, a.o, a.day, a.lid, a.sup_country,
                   ks.r * a.share * ks.scale AS w,
                   CASE WHEN a.sup_country IS NOT NULL AND a.country_sanc THEN 'S_DECL'
                        WHEN a.sup_country IS NOT NULL THEN 'COUNTRY'
                        WHEN a.party_sanc THEN 'S_DECL'
                        WHEN a.ukid IS NOT NULL AND a.uday >= a.day - {lag} THEN 'UP'
                        ELSE 'UNKNOWN' END AS kind,
                   CASE WHEN a.uday >= a.day - {lag} THEN a.ukid END AS up
            FROM a JOIN kshare ks USING (kid)""")
        self.sql("""
            CREATE TABLE lkup AS
            SELECT l.kid, k.stid, l.w, l.up FROM lk l JOIN kfig k USING (kid) WHERE l.kind = 'UP' AND l.w > 0""")
        self.log(f"links: {self.count('lk')} link terms")

    # -----------------------------------------------------------------------------------------------------
    def pools(self) -> None:
        """Rule 3: statistics pools, per (reporter, scope, heading, day) that some output needs."""
        lag = self.lag
        sc = self.scols
        # Superseded rows (SPEC §3, docs/dataset.md): within one (reporter, region, partner, flow), a monthly
        # row with a strictly finer code in the same month; a yearly row with a strictly finer yearly code, or
        # any monthly row of its year whose code overlaps its own. Prefix tests become equi-joins on the
        # expanded prefixes of each code.
        self.sql("""
            CREATE TABLE superseded AS
            WITH pref AS (
                SELECT f.*, left(f.hs, n::INTEGER) AS pfx, n::INTEGER AS n
                FROM flows f, LATERAL (SELECT unnest(range(2, length(f.hs) + 1)) AS n))
            -- a row under which a strictly finer row of the same month (of the same year, for yearly rows)
            SELECT DISTINCT a.fid FROM flows a JOIN pref b
              ON b.rep = a.rep AND b.rg = a.rg AND b.partner = a.partner AND b.flow = a.flow
             AND b.y = a.y AND b.m = a.m AND b.pfx = a.hs AND b.n < length(b.hs)
            UNION
            -- a yearly row over a monthly row's code, or under it (the monthly rows win)
            SELECT a.fid FROM flows a JOIN pref b
              ON b.rep = a.rep AND b.rg = a.rg AND b.partner = a.partner AND b.flow = a.flow
             AND b.y = a.y AND b.pfx = a.hs
            WHERE a.is_year AND NOT b.is_year
            UNION
            SELECT a.fid FROM pref a JOIN flows b
              ON b.rep = a.rep AND b.rg = a.rg AND b.partner = a.partner AND b.flow = a.flow
             AND b.y = a.y AND a.pfx = b.hs
            WHERE a.is_year AND NOT b.is_year""")
        self.sql("CREATE TABLE fl AS SELECT * FROM flows ANTI JOIN superseded USING (fid)")
        self.sql("CREATE TABLE hasnat AS SELECT DISTINCT rep FROM fl WHERE rg = ''")
        self.sql("CREATE TABLE heads AS SELECT DISTINCT heading AS o FROM keys")
        # Per (reporter, rows, output heading, period): I (relevant imports), U (transit partners and
        # re-imports), E (exports whose HS starts with the heading) and each sanctioned partner's relevant
        # imports, in exact fixed point (HUGEINT units of 1e-18 USD). Rows: a region's, the national ones
        # (''), or all region rows ('*'). Each (reporter, rows, heading) gets an integer key.
        s_cols = "".join(f", sum(v) FILTER (WHERE comp = 'I' AND partner = '{c}') AS {col(c)}"
                         for c in dict.fromkeys(self.st["sanctioned_origins"]))

        def units(x: str) -> str:  # an exact DECIMAL(38,12) as HUGEINT units of 1e-18
            x = f"coalesce({x}, 0)"
            return (f"CAST(trunc({x}) AS HUGEINT) * 1000000000000000000"
                    f" + CAST(({x} - trunc({x})) * 1000000000000 AS HUGEINT) * 1000000")

        as_units = ", ".join(f"{units(c)} AS {c}" for c in ["i", "u", "e"] + sc)
        self.sql(f"""
            CREATE TABLE pstat0 AS
            WITH imp AS (
                SELECT f.rep, f.rg, rel.o, f.pk, f.ps, f.pe, f.partner,
                       CASE WHEN f.partner IN (SELECT c FROM so) THEN 'S'
                            WHEN f.partner IN (SELECT c FROM tp) OR f.partner = f.rep THEN 'U'
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
                FROM scoped GROUP BY ALL)
            SELECT rep, rg, o, pk, ps, pe, {as_units} FROM agg""")
        self.sql("""
            CREATE TABLE sko AS
            SELECT (row_number() OVER ())::INTEGER AS skid, rep, rg, o FROM (SELECT DISTINCT rep, rg, o FROM pstat0)""")
        self.sql(f"""
            CREATE TABLE pstat AS
            SELECT k.skid, p.pk, p.ps, p.pe, p.pe - p.ps AS days, p.i, p.u, p.e{''.join(', p.' + c for c in sc)}
            FROM pstat0 p JOIN sko k USING (rep, rg, o)""")
        # Pool requests: party pools of outputs with a statistical remainder, and national pools of countries
        # named by links with weight.
        self.sql("""
            CREATE TABLE preq AS
            SELECT DISTINCT k.country AS rep, k.region AS r, k.heading AS o, k.day AS t
            FROM kfig k JOIN kshare s USING (kid) WHERE s.rem > 0 AND k.region IS NOT NULL
            UNION
            SELECT DISTINCT k.country, NULL, k.heading, k.day
            FROM kfig k JOIN kshare s USING (kid) WHERE s.rem > 0
            UNION
            SELECT DISTINCT sup_country, NULL, o, day FROM lk WHERE kind = 'COUNTRY' AND w > 0""")
        # Figure requests: a region's own rows, the national rows and all region rows, each one integer key.
        self.sql("""
            CREATE TABLE freq AS
            SELECT (row_number() OVER ())::INTEGER AS qid, q.*, k.skid FROM (
                SELECT DISTINCT rep, r AS rg, o, t FROM preq WHERE r IS NOT NULL
                UNION
                SELECT DISTINCT rep, '', o, t FROM preq WHERE rep IN (SELECT rep FROM hasnat)
                UNION
                SELECT DISTINCT rep, '*', o, t FROM preq) q
            LEFT JOIN sko k USING (rep, rg, o)""")
        # Each window [t - lag, t) touches a few months and one or two years: enumerate those period keys and
        # equi-join; pro-rate by the days of each period inside the window.
        sums = ", ".join(f"coalesce(sum({prorate(c)}), 0)::HUGEINT AS {c}" for c in ["i", "u", "e"] + sc)
        self.sql(f"""
            CREATE TABLE pkq AS
            WITH e AS (
                SELECT qid, skid, t, t - {lag} AS lo,
                       DATE '1970-01-01' + (t - {lag}) AS lo_d, DATE '1970-01-01' + (t - 1) AS hi_d
                FROM freq WHERE skid IS NOT NULL)
            SELECT qid, skid, t, lo, (mi // 12) * 100 + mi % 12 + 1 AS pk FROM (
                SELECT qid, skid, t, lo,
                       unnest(range(year(lo_d) * 12 + month(lo_d) - 1, year(hi_d) * 12 + month(hi_d))) AS mi
                FROM e)
            UNION ALL
            SELECT qid, skid, t, lo, unnest(range(year(lo_d), year(hi_d) + 1)) * 100 AS pk FROM e""")
        self.sql(f"""
            CREATE TABLE figs AS
            SELECT q.qid, {sums}
            FROM pkq q JOIN pstat s ON s.skid = q.skid AND s.pk = q.pk,
                 LATERAL (SELECT least(s.pe, q.t) - greatest(s.ps, q.lo) AS ov) x
            WHERE x.ov > 0 GROUP BY q.qid""")
        s_sum = " + ".join(f"f.{c}" for c in sc) if sc else "0"
        self.sql(f"""
            CREATE TABLE fw AS
            SELECT q.rep, q.rg, q.o, q.t,
                   coalesce({s_sum}, 0)::HUGEINT AS S, coalesce(f.u, 0) AS U, coalesce(f.i, 0) AS I,
                   coalesce(f.e, 0) AS E{''.join(f', coalesce(f.{c}, 0) AS {c}' for c in sc)}
            FROM freq q LEFT JOIN figs f USING (qid)""")
        # A national pool, and the rest of a country, read the national rows when the reporter has national
        # rows relevant to the heading inside the window; otherwise the sum of the region rows (the choice is
        # made per window, so rows dated after t never change a result at t).
        self.sql("""
            CREATE TABLE pbase AS
            SELECT q.rep, q.o, q.t, CASE WHEN n.I > 0 OR n.E > 0 THEN '' ELSE '*' END AS b
            FROM (SELECT DISTINCT rep, o, t FROM preq) q
            LEFT JOIN fw n ON n.rep = q.rep AND n.rg = '' AND n.o = q.o AND n.t = q.t""")
        # Each pool's mix (tidied like any mix) and its prevalence: sanctioned / (sanctioned + clean), the
        # sanctioned share of the inputs whose origin the statistics show (0 when both are 0).
        def finish(shares: tuple[str, str, str]) -> str:
            ps, pc, pu = (tidy(x) for x in shares)
            return (f"{ps} AS ps, {pc} AS pc, {pu} AS pu, "
                    f"CASE WHEN {ps} + {pc} > 0 THEN {ps} / ({ps} + {pc}) ELSE 0.0 END AS prev")

        # National pools: their remainder is unknown.
        self.sql(f"""
            CREATE TABLE npool AS
            WITH n AS (
                SELECT q.rep, q.o, q.t, f.S AS n_S, f.U AS n_U, f.I AS n_I, f.E AS n_E,
                       coalesce(k.k, 1.0) AS k
                FROM (SELECT DISTINCT rep, o, t FROM preq WHERE r IS NULL) q
                JOIN pbase b USING (rep, o, t)
                JOIN fw f ON f.rep = q.rep AND f.rg = b.b AND f.o = q.o AND f.t = q.t
                LEFT JOIN ratio k ON k.o = q.o)
            SELECT rep, o, t, {finish(shares_sql("n", "k"))} FROM n WHERE n_I > 0 AND n_E > 0""")
        # Region pools. The rest of the country = base minus the region, class by class (each sanctioned
        # partner, unknown, clean = I - S - U, exports), each floored at zero, below 1e-6 USD taken as zero;
        # its imports are the sum of its classes, T_rest = max(I_rest, k·E_rest), and it is a pool when
        # I_rest > 0 and E_rest > 0. Only its sanctioned share s_rest = S_rest / T_rest enters the region's
        # remainder (the rest's own remainder being unknown); without a rest pool, s_rest = 0.
        def pos(x: str) -> str:
            return f"(CASE WHEN ({x}) < {NOISE} THEN 0 ELSE ({x}) END)"

        x_s = " + ".join(pos(f"bw.{c} - rw.{c}") for c in sc) if sc else "0"
        self.sql(f"""
            CREATE TABLE rpool AS
            WITH own AS (
                SELECT q.rep, q.r, q.o, q.t, b.b, f.S AS w_S, f.U AS w_U, f.I AS w_I, f.E AS w_E,
                       coalesce(k.k, 1.0) AS k
                FROM (SELECT DISTINCT rep, r, o, t FROM preq WHERE r IS NOT NULL) q
                JOIN pbase b USING (rep, o, t)
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
                SELECT rep, r, o, t, x_S::DOUBLE / greatest(x_I::DOUBLE, k * x_E::DOUBLE) AS s_rest
                FROM (SELECT *, x_S + x_U + x_C AS x_I FROM rest)
                WHERE x_I > 0 AND x_E > 0),
            j AS (
                SELECT own.*, coalesce(s_rest, 0.0) AS s_rest
                FROM own LEFT JOIN srest USING (rep, r, o, t))
            SELECT rep, r, o, t, {finish(shares_sql("w", "k", "s_rest"))} FROM j""")
        self.log(f"pools: {self.count('preq')} pool requests, {self.count('freq')} figure requests")

    # -----------------------------------------------------------------------------------------------------
    def constants(self) -> None:
        """Every term whose mix does not depend on another output: sanctioned parties, direct documented
        inputs, constant links, the pool. `cmix` holds their weighted sum per output."""
        z = "0.0::DOUBLE"
        self.sql(f"""
            CREATE TABLE cterms AS
            -- rule 4: a party located in a sanctioned country
            SELECT kid, 1.0::DOUBLE AS sd, {z} AS sl, {z} AS ss, {z} AS cd, {z} AS cl, {z} AS cs, {z} AS u
            FROM keys WHERE sanc
            UNION ALL
            -- rule 1: inbound shipments from a sanctioned party or declaring a sanctioned origin
            SELECT kid, dd * inv, 0, 0, 0, 0, 0, 0 FROM kfig WHERE dd > 0
            UNION ALL
            -- rule 2: links with a constant mix
            SELECT l.kid,
                   0.0,
                   CASE WHEN l.kind = 'S_DECL' THEN l.w ELSE 0.0 END,
                   CASE WHEN l.kind = 'COUNTRY' THEN l.w * coalesce(n.ps, 0.0) ELSE 0.0 END,
                   0.0,
                   CASE WHEN l.kind = 'COUNTRY' AND n.ps IS NULL THEN l.w ELSE 0.0 END,
                   CASE WHEN l.kind = 'COUNTRY' THEN l.w * coalesce(n.pc, 0.0) ELSE 0.0 END,
                   CASE WHEN l.kind = 'UNKNOWN' THEN l.w
                        WHEN l.kind = 'COUNTRY' THEN l.w * coalesce(n.pu, 0.0) ELSE 0.0 END
            FROM lk l LEFT JOIN npool n ON n.rep = l.sup_country AND n.o = l.o AND n.t = l.day
            WHERE l.kind <> 'UP' AND l.w > 0
            UNION ALL
            -- rule 3: the pool (region, else national, else unknown)
            SELECT k.kid, 0.0, 0.0, s.rem * coalesce(rp.ps, np.ps, 0.0), 0.0, 0.0,
                   s.rem * coalesce(rp.pc, np.pc, 0.0),
                   s.rem * CASE WHEN rp.ps IS NULL AND np.ps IS NULL THEN 1.0 ELSE coalesce(rp.pu, np.pu) END
            FROM kfig k JOIN kshare s USING (kid)
            LEFT JOIN rpool rp ON rp.rep = k.country AND rp.r = k.region AND rp.o = k.heading AND rp.t = k.day
            LEFT JOIN npool np ON np.rep = k.country AND np.o = k.heading AND np.t = k.day
            WHERE s.rem > 0""")
        # The pool an output takes (its statistical pool term weighs more than 1e-12, on a pool that exists)
        # and that pool's prevalence; outputs that take none are absent.
        self.sql(f"""
            CREATE TABLE kprev AS
            SELECT k.kid, coalesce(rp.prev, np.prev) AS prev
            FROM kfig k JOIN kshare s USING (kid)
            LEFT JOIN rpool rp ON rp.rep = k.country AND rp.r = k.region AND rp.o = k.heading AND rp.t = k.day
            LEFT JOIN npool np ON np.rep = k.country AND np.o = k.heading AND np.t = k.day
            WHERE s.rem > {EPS!r} AND (rp.prev IS NOT NULL OR np.prev IS NOT NULL)""")
        sums = ", ".join(f"coalesce(sum(t.{c}), 0.0) AS {c}" for c in COMPONENTS)
        self.sql(f"""
            CREATE TABLE cmix AS
            SELECT k.kid, k.stid, k.day, {sums}
            FROM keys k LEFT JOIN cterms t USING (kid) GROUP BY ALL""")
        self.log("constants")

    # -----------------------------------------------------------------------------------------------------
    def iterate(self) -> None:
        """The recursion, iterated over the time-ordered tiers, semi-naively: a round recomputes the outputs
        of every stream fed by an output whose mix changed in the previous round (through an inbound shipment
        or a party link), until nothing changes."""
        lag = self.lag
        tcols = ", ".join(f"{tidy(c)} AS {c}" for c in COMPONENTS)
        self.sql(f"CREATE TABLE cur AS SELECT kid, {tcols} FROM cmix")
        self.sql("CREATE TABLE delta AS SELECT kid FROM keys")
        inb = ", ".join(f"s.vd * m.{c} AS x_{c}" for c in COMPONENTS)
        zeros = ", ".join(f"0.0::DOUBLE AS x_{c}" for c in COMPONENTS)
        wins = ", ".join(f"sum(x_{c}) OVER win AS d_{c}" for c in COMPONENTS)
        # A party link is declared evidence: the upstream documented share becomes declared.
        at_most = {"sd": "0.0", "sl": "m.sd + m.sl", "ss": "m.ss", "cd": "0.0", "cl": "m.cd + m.cl",
                   "cs": "m.cs", "u": "m.u"}
        lsum = ", ".join(f"sum(l.w * ({at_most[c]})) AS l_{c}" for c in COMPONENTS)
        total = ", ".join(
            tidy(f"(c.{c} + coalesce(d.d_{c}, 0.0) * f.inv + coalesce(l.l_{c}, 0.0))") + f" AS {c}"
            for c in COMPONENTS)
        differs = " OR ".join(f"n.{c} <> m.{c}" for c in COMPONENTS)
        keep = ", ".join(f"coalesce(n.{c}, m.{c}) AS {c}" for c in COMPONENTS)
        while True:
            self.rounds += 1
            self.sql("""
                CREATE OR REPLACE TABLE aff AS
                SELECT DISTINCT stid FROM (
                    SELECT s.stid FROM seq_nd s SEMI JOIN delta d ON d.kid = s.src
                    UNION ALL
                    SELECT l.stid FROM lkup l SEMI JOIN delta d ON d.kid = l.up)""")
            self.sql(f"""
                CREATE OR REPLACE TABLE newm AS
                WITH u AS (
                    SELECT s.stid, s.day, NULL::INTEGER AS kid, {inb}
                    FROM seq_nd s SEMI JOIN aff a USING (stid)
                    JOIN cur m ON m.kid = s.src
                    UNION ALL
                    SELECT c.stid, c.day, c.kid, {zeros}
                    FROM cmix c SEMI JOIN aff a USING (stid)),
                w AS (
                    SELECT kid, {wins} FROM u
                    WINDOW win AS (PARTITION BY stid ORDER BY day RANGE BETWEEN {lag} PRECEDING AND 1 PRECEDING)),
                d AS (SELECT * FROM w WHERE kid IS NOT NULL),
                l AS (SELECT l.kid, {lsum} FROM lkup l SEMI JOIN aff a USING (stid)
                      JOIN cur m ON m.kid = l.up GROUP BY l.kid)
                SELECT c.kid, {total}
                FROM d JOIN cmix c USING (kid) JOIN kfig f USING (kid) LEFT JOIN l USING (kid)""")
            self.sql(f"""
                CREATE OR REPLACE TABLE delta AS
                SELECT n.kid FROM newm n JOIN cur m USING (kid) WHERE {differs}""")
            changed = self.count("delta")
            self.log(f"round {self.rounds}: {self.count('newm')} recomputed, {changed} changed")
            if changed == 0:
                break
            self.sql(f"""
                CREATE OR REPLACE TABLE cur AS
                SELECT m.kid, {keep} FROM cur m LEFT JOIN (newm n SEMI JOIN delta USING (kid)) n USING (kid)""")

    # -----------------------------------------------------------------------------------------------------
    def counterparties(self) -> None:
        """SPEC §3 "Counterparties": for every output (shipper P, heading o, day t), the shipments in
        [t - counterparty_days, t) between P and a party located in a sanctioned country, either way, whatever
        their value; and how many of them carry an HS code relevant to o. A window count over each stream, like
        D: the counterparty records of P join each of P's streams."""
        cpd = int(self.st["counterparty_days"])
        self.sql("""
            CREATE TABLE cpev AS
            SELECT s.sp AS pn, s.day, s.hs FROM ship s JOIN parties c ON c.pn = s.cp WHERE c.sanc
            UNION ALL
            SELECT s.cp, s.day, s.hs FROM ship s WHERE s.shipper_sanc""")
        self.sql(f"""
            CREATE TABLE kcp AS
            WITH st AS (SELECT DISTINCT stid, sp, heading AS o FROM keys SEMI JOIN cpev ON cpev.pn = keys.sp),
            u AS (
                SELECT st.stid, e.day, 1 AS n, CASE WHEN rel.o IS NULL THEN 0 ELSE 1 END AS nr,
                       NULL::INTEGER AS kid
                FROM st JOIN cpev e ON e.pn = st.sp LEFT JOIN rel ON rel.hs = e.hs AND rel.o = st.o
                UNION ALL
                SELECT k.stid, k.day, 0, 0, k.kid FROM keys k SEMI JOIN st USING (stid)),
            w AS (
                SELECT kid, sum(n) OVER win AS n, sum(nr) OVER win AS nr FROM u
                WINDOW win AS (PARTITION BY stid ORDER BY day RANGE BETWEEN {cpd} PRECEDING AND 1 PRECEDING))
            SELECT kid, n, nr FROM w WHERE kid IS NOT NULL AND n > 0""")
        self.log(f"counterparties: {self.count('cpev')} records, {self.count('kcp')} outputs with one")

    # -----------------------------------------------------------------------------------------------------
    def write(self, out: str | None) -> None:
        sev = self.st["severity"]
        med, high = float(sev["medium"]), float(sev["high"])
        # A shipment that itself declares a sanctioned origin carries sanctioned goods on its own document,
        # whatever its shipper's inputs: sanctioned 1, documented (SPEC §3 rule 4). Its mix has no pool term,
        # so it takes no pool: no prevalence.
        own = {c: ("1.0" if c == "sd" else "0.0") for c in COMPONENTS}
        cols = ", ".join(f"CASE WHEN s.decl_sanc THEN {own[c]} ELSE m.{c} END AS {c}" for c in COMPONENTS)
        # Each rule's severity, NULL when it is not raised (SPEC §3 "Flags"), in the contract's order.
        rules = [
            ("sanctioned-exposure", f"""CASE WHEN sanctioned <= {EPS!r} THEN NULL
                 WHEN sanctioned >= {high!r} OR sd + sl > {EPS!r} THEN 'high'
                 WHEN sanctioned >= {med!r} THEN 'medium' ELSE 'low' END"""),
            ("regional-prevalence", f"""CASE WHEN prevalence IS NULL OR prevalence <= {EPS!r} THEN NULL
                 WHEN prevalence >= {med!r} AND coverage < 0.5 THEN 'medium' ELSE 'low' END"""),
            ("sanctioned-counterparty", "CASE WHEN cp_n > 0 THEN (CASE WHEN cp_rel > 0 THEN 'high' "
                                        "ELSE 'medium' END) END"),
            ("sanctioned-consignee", "CASE WHEN consignee_sanc THEN 'high' END"),
            ("origin-mislabel", f"""CASE WHEN origin IS NOT NULL AND origin NOT IN (SELECT c FROM so)
                 AND sd + sl >= {med!r} THEN 'high' END"""),
            ("low-coverage", "CASE WHEN coverage < 0.5 THEN 'low' END"),
        ]
        sevs = ", ".join(f"{e} AS f{i}" for i, (_, e) in enumerate(rules))
        flags = ", ".join(f"CASE WHEN f{i} IS NOT NULL THEN '{r}' END" for i, (r, _) in enumerate(rules))
        fsev = ", ".join(f"f{i}" for i in range(len(rules)))
        rank = " ".join(f"WHEN list_contains([{fsev}], '{x}') THEN '{x}'" for x in ("high", "medium", "low"))
        q = f"""
            WITH sm AS (
                SELECT s.sid, s.origin, {cols},
                       CASE WHEN NOT s.decl_sanc THEN p.prev END AS prevalence,
                       coalesce(cp.n, 0) AS cp_n, coalesce(cp.nr, 0) AS cp_rel, c.sanc AS consignee_sanc
                FROM ship_key s JOIN cur m USING (kid)
                JOIN parties c ON c.pn = s.cp
                LEFT JOIN kprev p USING (kid) LEFT JOIN kcp cp USING (kid)),
            m AS (
                SELECT sm.*, sd + sl + ss AS sanctioned, cd + cl + cs AS clean, sd + sl + cd + cl AS coverage
                FROM sm),
            r AS (SELECT m.*, {sevs} FROM m)
            SELECT sid AS shipment_id, sanctioned, clean, u AS unknown, sd AS documented, sl AS declared,
                   ss AS statistical, coverage, prevalence,
                   concat_ws(';', {flags}) AS flags,
                   CASE {rank} ELSE 'none' END AS severity,
                   concat_ws(';', {fsev}) AS flag_severities
            FROM r ORDER BY shipment_id"""
        if out:
            self.sql(f"COPY ({q}) TO '{out.replace(chr(39), chr(39) * 2)}' (HEADER, DELIMITER ',')")
        else:
            w = csv.writer(sys.stdout, lineterminator="\n")
            cur = self.sql(q)
            w.writerow([d[0] for d in cur.description])
            while rows := cur.fetchmany(10000):
                w.writerows(rows)
        self.log(f"written ({self.rounds} rounds)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.path.join(HERE, "..", "..", "data", "sample"),
                    help="canonical dataset directory (with --parquet: only its origintrace.toml, and only when "
                         "the Parquet files carry no settings)")
    ap.add_argument("--parquet", metavar="DIR",
                    help="read the tables from the Parquet files of `origintrace export --format parquet -o DIR`")
    ap.add_argument("-o", "--output", help="CSV file (default: stdout)")
    ap.add_argument("--config", help="settings file laid over the dataset's")
    ap.add_argument("--lag-days", type=int)
    ap.add_argument("--threads", type=int, help="DuckDB threads (default: all cores)")
    ap.add_argument("--link-own-heading", action="store_true",
                    help="a party link reads the mix of the supplier's latest shipment whose own heading starts "
                         "with the link's (model v1's reading, the engine's) instead of the supplier's mix for "
                         "the link's heading at its latest output of it (SPEC v2's text)")
    ap.add_argument("-v", "--verbose", action="count", default=0,
                    help="timings and rounds on stderr (-vv: every statement)")
    a = ap.parse_args(argv)
    st = default_settings()
    from_files = parquet_settings(a.parquet) if a.parquet else None
    own = os.path.join(a.data, "origintrace.toml")
    if from_files is not None:
        st = overlay_raw(st, from_files)
    elif os.path.exists(own):
        st = overlay(st, own)
    if a.config:
        st = overlay(st, a.config)
    if a.lag_days is not None:
        st["lag_days"] = a.lag_days
    if a.parquet:
        Twin(a.parquet, st, a.threads, a.verbose, parquet=True, link_own_heading=a.link_own_heading).run(a.output)
    else:
        Twin(a.data, st, a.threads, a.verbose, link_own_heading=a.link_own_heading).run(a.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
