#!/usr/bin/env python3
"""The SQL twin on SPEC §3's worked examples and on small hand-computed cases of model v2.

The twin is the independent check of the engine, so it is checked itself against numbers worked out by hand
from the SPEC text, never against the engine: worked examples A and B (tests/fixtures/example_a, example_b,
SPEC §3's v2 numbers) and one small dataset per v2 change (pools with `input_ratio` and the rest of the
country, a national pool behind a `country:XX` link, outputs counted by overlap, counterparties both ways
and their window's edge, a shipment to a KP party, `origin-mislabel` at `severity.medium`, a party link to a
KP supplier, party links reading the supplier's mix for the link's heading). Each case lists the expected shares, prevalence (None: the output takes no pool) and flags
with their severities; the derivation is in the comment beside it.

Usage: python3 benches/peers/twin_examples.py [-v]
Exit 1 when any number (to 1e-9), prevalence or flag differs.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
TWIN = os.path.join(HERE, "duckdb_model.py")
TOL = 1e-9

# Datasets written to a temporary directory: {file: text}.
POOLS = {
    "parties.csv": "party_id,name,country,region\n"
                   "X,Example Henan Wigs,CN,CN-HA\nW,Example Shandong Lashes,CN,CN-SD\n"
                   "V,Example Unregistered Trader,CN,\nY,Example Importer,US,\n",
    "shipments.csv": "shipment_id,date,shipper,consignee,hs_code,value\n"
                     "P-HA,2023-05-10,X,Y,670420,1000\nP-SD,2023-05-10,W,Y,670420,1000\n"
                     "P-CN,2023-05-10,V,Y,670420,1000\n",
    "trade_flows.csv": "period,reporter,region,partner,flow,hs_code,value\n"
                       "2023-04,CN,CN-HA,KP,import,670420,100\n2023-04,CN,CN-HA,IN,import,0501,300\n"
                       "2023-04,CN,CN-HA,US,export,6704,1000\n"
                       "2023-04,CN,CN-SD,KP,import,670420,50\n2023-04,CN,CN-SD,IN,import,0501,150\n"
                       "2023-04,CN,CN-SD,HK,import,0501,100\n2023-04,CN,CN-SD,US,export,6704,500\n",
    "origintrace.toml": '[input_ratio]\n"6704" = 0.5\n',
}
COUNTRY_LINK = {
    "parties.csv": "party_id,name,country,region\nJ,Example Lash Workshop,CN,\nY,Example Importer,US,\n",
    "shipments.csv": "shipment_id,date,shipper,consignee,hs_code,value\nJ-1,2023-05-10,J,Y,670420,1000\n",
    "supplier_links.csv": "buyer,supplier,hs_code,share\nJ,country:IN,6704,1\n",
    "trade_flows.csv": "period,reporter,region,partner,flow,hs_code,value\n"
                       "2023-04,IN,,KP,import,670420,5\n2023-04,IN,,MM,import,0501,30\n"
                       "2023-04,IN,,US,export,6704,100\n",
}
FIRMS = {
    "parties.csv": "party_id,name,country,region\n"
                   "K,Example Hair Cooperative,KP,\nA,Example Wig Maker,CN,\nB,Example Hair Processor,CN,\n"
                   "M,Example Lash Maker,CN,\nN,Example Raw Hair Exporter,IN,\nM2,Example Lash Trader,CN,\n"
                   "U,Example Importer,US,\n",
    "shipments.csv": "shipment_id,date,shipper,consignee,hs_code,value,origin_country\n"
                     "O-1,2023-01-01,K,A,670420,100,\n"
                     "O-2,2023-01-05,A,U,67,300,\n"
                     "O-3,2023-01-10,A,U,670420,100,\n"
                     "B-1,2021-01-10,B,K,0501,10,\n"
                     "B-2,2022-12-01,B,U,420221,50,\n"
                     "B-3,2023-01-10,B,U,670420,100,\n"
                     "B-4,2023-01-11,B,U,670420,100,\n"
                     "M-1,2023-01-01,K,M,670420,2,\n"
                     "M-2,2023-01-02,N,M,050100,98,\n"
                     "M-3,2023-02-01,M,U,670420,100,CN\n"
                     "M-4,2023-02-01,M2,U,670420,100,CN\n",
    "supplier_links.csv": "buyer,supplier,hs_code,share\nM2,K,6704,0.005\n",
}
# Party links read the supplier's mix for the link's heading at its latest output of that heading, outputs
# counted by overlap (SPEC §3 rule 2 and "Outputs of o").
LINKS = {
    "parties.csv": "party_id,name,country,region\n"
                   "K,Example Hair Cooperative,KP,\nS,Example Lash Supplier,CN,\nN,Example Raw Hair Exporter,IN,\n"
                   "J,Example Lash Buyer,CN,\nG,Example Chapter Buyer,CN,\nU,Example Importer,US,\n",
    "shipments.csv": "shipment_id,date,shipper,consignee,hs_code,value\n"
                     "L-0,2023-02-01,K,S,670420,50\nL-1,2023-03-01,S,U,67,50\nL-4,2023-03-05,N,S,0501,100\n"
                     "L-2,2023-03-05,J,U,670420,100\nL-3,2023-03-10,S,U,670420,100\n"
                     "L-5,2023-03-20,G,U,670420,100\n",
    "supplier_links.csv": "buyer,supplier,hs_code,share\nJ,S,6704,0.5\nG,S,67,1\nN,country:IN,0501,1\n",
}

C = ["exposure", "prevalence", "counterparty", "consignee", "mislabel", "coverage"]
RULE = {"exposure": "sanctioned-exposure", "prevalence": "regional-prevalence",
        "counterparty": "sanctioned-counterparty", "consignee": "sanctioned-consignee",
        "mislabel": "origin-mislabel", "coverage": "low-coverage"}


def f(**kw) -> dict:
    """Expected flags: rule short name -> severity."""
    return {RULE[k]: v for k, v in kw.items()}


# (dataset, shipment, sanctioned, clean, unknown, documented, declared, statistical, coverage, prevalence, flags)
CASES = [
    # SPEC §3 worked example A: S = 11.22M, I = 76.22M, E = T = 516,666,667; remainder unknown (no rest of
    # the country); prevalence S / (I - U) = 11.22 / 76.22.
    ("example_a", "S-1", 11220000 / 516666667, 65000000 / 516666667, 1 - 76220000 / 516666667,
     0, 0, 11220000 / 516666667, 0, 11220000 / 76220000,
     f(exposure="medium", prevalence="medium", coverage="low")),
    # SPEC §3 worked example B.
    ("example_b", "B-1", 1, 0, 0, 1, 0, 0, 1, None, f(exposure="high")),
    # L: D = 100000 from K (KP), O = 120000: 5/6 sanctioned, the markup unknown; L received 6704 from K.
    ("example_b", "B-2", 5 / 6, 0, 1 / 6, 5 / 6, 0, 0, 5 / 6, None, f(exposure="high", counterparty="high")),
    ("example_b", "B-3", 0, 1, 0, 0, 0, 0, 1, None, {}),
    ("example_b", "B-4", 5 / 12, 0.5, 1 / 12, 5 / 12, 0, 0, 11 / 12, None, f(exposure="high")),
    # CN-HA: I = 400, S = 100, E = 1000, k = 0.5: T = 500; S/T = 0.2, clean 0.6, R = 0.2. Rest of the
    # country = CN-SD (no national rows): S 50, U 100 (HK), clean 150, I 300, E 500, T_rest = max(300, 250)
    # = 300, s_rest = 1/6. Sanctioned 0.2 + 0.2/6, unknown 0.2·5/6; prevalence (7/30) / (7/30 + 0.6) = 0.28.
    ("pools", "P-HA", 0.2 + 0.2 / 6, 0.6, 0.2 * 5 / 6, 0, 0, 0.2 + 0.2 / 6, 0, 0.28,
     f(exposure="high", prevalence="medium", coverage="low")),
    # CN-SD: T = max(300, 250) = 300, R = 0: S 1/6, U 1/3, clean 1/2; prevalence (1/6) / (2/3).
    ("pools", "P-SD", 1 / 6, 0.5, 1 / 3, 0, 0, 1 / 6, 0, 0.25,
     f(exposure="high", prevalence="medium", coverage="low")),
    # V has no region: the national pool is the sum of the region rows: S 150, U 100, I 700, E 1500,
    # T = max(700, 750) = 750; S 0.2, clean 0.6, unknown (100 + 50) / 750 = 0.2; prevalence 0.25.
    ("pools", "P-CN", 0.2, 0.6, 0.2, 0, 0, 0.2, 0, 0.25,
     f(exposure="high", prevalence="medium", coverage="low")),
    # The link to country:IN carries IN's national pool (S 5, I 35, E = T = 100: remainder 0.65 unknown),
    # as declared evidence: J takes no pool itself (no prevalence, no regional-prevalence).
    ("country_link", "J-1", 0.05, 0.3, 0.65, 0, 0, 0.05, 0, None,
     f(exposure="medium", coverage="low")),
    # A's output coded 67: relevant inputs overlap 67 (O-1); O counts A's outputs overlapping 67 in
    # [t - lag, t]: O-2 only (300). Weight 100/300 of K's sanctioned 1.
    ("firms", "O-1", 1, 0, 0, 1, 0, 0, 1, None, f(exposure="high")),
    ("firms", "O-2", 1 / 3, 0, 2 / 3, 1 / 3, 0, 0, 1 / 3, None,
     f(exposure="high", counterparty="high", coverage="low")),
    # A's 6704 output: O counts O-2 (coded 67, an output of 6704 too) and O-3: 400; D = 100.
    ("firms", "O-3", 0.25, 0, 0.75, 0.25, 0, 0, 0.25, None,
     f(exposure="high", counterparty="high", coverage="low")),
    # B ships hair to K (KP): a sanctioned consignee; B's later outputs have K as counterparty until
    # 2021-01-10 + 730 days = 2023-01-10 (inclusive: the window is [t - 730, t)); 0501 is relevant to 6704
    # (high), not to 4202 (medium).
    ("firms", "B-1", 0, 0, 1, 0, 0, 0, 0, None, f(consignee="high", coverage="low")),
    ("firms", "B-2", 0, 0, 1, 0, 0, 0, 0, None, f(counterparty="medium", coverage="low")),
    ("firms", "B-3", 0, 0, 1, 0, 0, 0, 0, None, f(counterparty="high", coverage="low")),
    ("firms", "B-4", 0, 0, 1, 0, 0, 0, 0, None, f(coverage="low")),
    # M: D = 2 (K) + 98 (N, unknown), O = 100: 0.02 documented sanctioned >= severity.medium (0.01) while
    # declaring CN: origin-mislabel (v1 needed 0.5). K is M's counterparty (670420 relevant: high).
    ("firms", "M-3", 0.02, 0, 0.98, 0.02, 0, 0, 0.02, None,
     f(exposure="high", counterparty="high", mislabel="high", coverage="low")),
    # M2's link to K (a party located in KP): sanctioned 1, declared, weight 0.005 < 0.01: no mislabel.
    ("firms", "M-4", 0.005, 0, 0.995, 0, 0.005, 0, 0.005, None, f(exposure="high", coverage="low")),
    # S's output coded 67 on 03-01: D = 50 (L-0 overlaps 67), O = 50.
    ("links", "L-1", 1, 0, 0, 1, 0, 0, 1, None, f(exposure="high", counterparty="high")),
    # J's link to S for 6704 (weight 0.5): S's latest output of 6704 before 03-05 is L-1, coded 67; S's mix
    # for 6704 on 03-01: D = 50 (L-0), O = 50 (L-1 overlaps 6704): sanctioned 1, carried as declared.
    ("links", "L-2", 0.5, 0, 0.5, 0, 0.5, 0, 0.5, None, f(exposure="high")),
    # S's 6704 on 03-10: D = 50 (K) + 100 (N: clean 1 declared, its country:IN link, no IN statistics),
    # O = 50 (L-1) + 100.
    ("links", "L-3", 1 / 3, 2 / 3, 0, 1 / 3, 0, 0, 1, None, f(exposure="high", counterparty="high")),
    # G's chapter link `67` (weight 1) reads S's mix for 67 on 03-10, not for 6704: the inputs of 67 are L-0
    # only (0501 is not one), D = 50, O = 50 + 100: 1/3 sanctioned, the rest unknown; all declared.
    ("links", "L-5", 1 / 3, 0, 2 / 3, 0, 1 / 3, 0, 1 / 3, None, f(exposure="high", coverage="low")),
]

DATASETS = {"pools": POOLS, "country_link": COUNTRY_LINK, "firms": FIRMS, "links": LINKS}


def twin_rows(data: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "twin.csv")
        p = subprocess.run([sys.executable, TWIN, "--data", data, "-o", out], capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"twin failed on {data}: {p.stderr.strip()}")
        with open(out, encoding="utf-8", newline="") as fh:
            return {r["shipment_id"]: r for r in csv.DictReader(fh)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fixtures", default=os.path.join(ROOT, "tests", "fixtures"),
                    help="the directory holding example_a and example_b")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, files in DATASETS.items():
            d = os.path.join(tmp, name)
            os.makedirs(d)
            for fname, text in files.items():
                with open(os.path.join(d, fname), "w", encoding="utf-8") as fh:
                    fh.write(text)
            results[name] = twin_rows(d)
    for name in ("example_a", "example_b"):
        results[name] = twin_rows(os.path.join(a.fixtures, name))

    shares = ["sanctioned", "clean", "unknown", "documented", "declared", "statistical", "coverage"]
    bad = 0
    for ds, sid, *want in CASES:
        *nums, prev, flags = want
        r = results[ds].get(sid)
        if r is None:
            print(f"FAIL {ds}/{sid}: no such row")
            bad += 1
            continue
        problems = [f"{k} {float(r[k])!r} != {w!r}" for k, w in zip(shares, nums) if abs(float(r[k]) - w) > TOL]
        got_prev = None if r["prevalence"] == "" else float(r["prevalence"])
        if (got_prev is None) != (prev is None) or (prev is not None and abs(got_prev - prev) > TOL):
            problems.append(f"prevalence {got_prev!r} != {prev!r}")
        got_flags = dict(zip([x for x in r["flags"].split(";") if x],
                             [x for x in r["flag_severities"].split(";") if x]))
        if got_flags != flags:
            problems.append(f"flags {got_flags} != {flags}")
        bad += bool(problems)
        if problems or a.verbose:
            print(f"{'FAIL' if problems else 'ok  '} {ds}/{sid}{': ' + '; '.join(problems) if problems else ''}")
    print(f"{len(CASES) - bad} of {len(CASES)} hand-computed rows agree")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
