#!/usr/bin/env python3
"""Checks `origintrace export --format parquet` against the CSV dataset it was written from, with DuckDB.

1. Exact decimals: for every money and quantity column that the CSV files have too (shipments value,
   quantity, weight_kg; trade_flows value, quantity; rates usd_per_unit), DuckDB reads the Parquet DECIMAL
   and the CSV text cast to the same DECIMAL(38, s); every row must be equal, and so must the sums.
   Rows are matched by position (the export keeps file order; one dataset directory, no rejected rows).
2. The twin: `duckdb_model.py` on the CSV files and on the Parquet files, single-threaded (DuckDB's parallel
   float sums differ in the last bit from run to run), must write byte-identical results.

Usage: python3 benches/peers/parquet_check.py --data DIR [--parquet DIR | --binary PATH]
Without --parquet, the files are written to a temporary directory with `BINARY export --format parquet`
(default target/release/origintrace, which must be built with `--features parquet`). Exit 1 on any difference.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import subprocess
import sys
import tempfile
import time

import duckdb

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
TWIN = os.path.join(HERE, "duckdb_model.py")

# (table, decimal columns present in both the CSV and the Parquet file)
MONEY = [
    ("shipments", ["value", "quantity", "weight_kg"]),
    ("trade_flows", ["value", "quantity"]),
    ("rates", ["usd_per_unit"]),
]


def quote(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def decimals(data: str, pq: str) -> bool:
    con = duckdb.connect(":memory:")
    ok = True
    print(f"{'column':<28} {'rows':>9} {'equal':>9}  sum (CSV = Parquet)")
    for table, cols in MONEY:
        csv_path = os.path.join(data, f"{table}.csv")
        pq_path = os.path.join(pq, f"{table}.parquet")
        if not os.path.exists(csv_path):
            n = con.execute(f"SELECT count(*) FROM read_parquet({quote(pq_path)})").fetchone()[0]
            print(f"{table + '.*':<28} {'':>9} {'':>9}  no CSV file; Parquet rows {n}")
            ok &= n == 0
            continue
        types = {r[0]: r[1] for r in
                 con.execute(f"DESCRIBE SELECT * FROM read_parquet({quote(pq_path)})").fetchall()}
        header = [d[0].strip().lower() for d in
                  con.execute(f"SELECT * FROM read_csv({quote(csv_path)}, header = true, all_varchar = true) "
                              "LIMIT 0").description]
        for c in cols:
            if c not in header:
                continue
            ty = types[c]
            if not ty.startswith("DECIMAL"):
                print(f"{table}.{c}: Parquet type {ty}, not DECIMAL")
                ok = False
                continue
            csv_col = f"c{header.index(c)}"
            spec = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header)))
            q = f"""
                WITH a AS (SELECT row_number() OVER () AS n,
                                  CAST(replace(NULLIF(trim({csv_col}), ''), ',', '') AS {ty}) AS v
                           FROM read_csv({quote(csv_path)}, header = true, auto_detect = false,
                                         columns = {{{spec}}})),
                     b AS (SELECT row_number() OVER () AS n, "{c}" AS v FROM read_parquet({quote(pq_path)}))
                SELECT count(*), count(*) FILTER (WHERE a.v IS NOT DISTINCT FROM b.v),
                       sum(a.v)::VARCHAR, sum(b.v)::VARCHAR,
                       (SELECT count(*) FROM a), (SELECT count(*) FROM b)
                FROM a FULL JOIN b USING (n)"""
            n, equal, sa, sb, na, nb = con.execute(q).fetchone()
            good = n == equal == na == nb and sa == sb
            ok &= good
            print(f"{table + '.' + c + ' ' + ty.replace('DECIMAL', ''):<28} {n:>9} {equal:>9}  "
                  f"{sa} {'=' if sa == sb else '!='} {sb}{'' if good else '   MISMATCH'}")
    return ok


def twin_identical(data: str, pq: str) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        a, b = os.path.join(tmp, "csv.csv"), os.path.join(tmp, "parquet.csv")
        t0 = time.perf_counter()
        subprocess.run([sys.executable, TWIN, "--data", data, "-o", a, "--threads", "1"], check=True)
        t1 = time.perf_counter()
        subprocess.run([sys.executable, TWIN, "--data", data, "--parquet", pq, "-o", b, "--threads", "1"],
                       check=True)
        t2 = time.perf_counter()
        same = filecmp.cmp(a, b, shallow=False)
        with open(a, encoding="utf-8") as f:
            rows = sum(1 for _ in f) - 1
    print(f"twin, 1 thread: CSV {t1 - t0:.2f} s, Parquet {t2 - t1:.2f} s; {rows} shipments; results "
          f"{'byte-identical' if same else 'DIFFER'}")
    return same


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="the canonical CSV dataset directory")
    ap.add_argument("--parquet", metavar="DIR", help="its Parquet export (default: written now)")
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "origintrace"))
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        pq = a.parquet
        if not pq:
            pq = tmp
            p = subprocess.run([a.binary, "export", "--format", "parquet", "--data", a.data, "-o", pq],
                               capture_output=True, text=True)
            if p.returncode != 0:
                sys.exit(f"export failed ({p.returncode}): {p.stderr.strip()}")
        ok = decimals(a.data, pq)
        ok &= twin_identical(a.data, pq)
    print("\nSAME" if ok else "\nDIFFERENT")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
