#!/usr/bin/env python3
"""Random small datasets through the engine and the SQL twin (benches/peers/compare.py on each).

Every dataset mixes what the model has corner cases for: KP parties and declared origins, processing loops,
same-day chains, region and national statistics rows (with superseded yearly and coarser rows, partial
months, transit partners, re-imports, a second sanctioned origin), supplier links of every kind (country,
party, chapter-level, shares over 1, validity bounds), currencies, zero values, input ratios and short lags;
and for model v2: shipments to KP parties (outward processing) and trade with them up to three years back
(counterparties around `counterparty_days`, set from 0 to 1000), input ratios on the pools' headings (6704,
6703, 4202), and `severity.medium` varied (origin-mislabel and regional-prevalence use it).

Usage: python3 benches/peers/fuzz_compare.py [--cases N] [--seed S] [--keep DIR] [--binary PATH] [--no-short]
                                             [--link-own-heading]
Exit 1 when any case disagrees; the datasets of the failing cases are kept under --keep.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))

REGIONS = ["CN-HA", "CN-LN", "CN-SD", "CN-ZJ"]
HS = ["0501", "050100", "6703", "670300", "6704", "670420", "670490", "6704.20", "67", "05", "4202", "420221"]
OUT_HS = ["670420", "670490", "6704", "670300", "6703", "050100", "420221", "67"]


NO_SHORT = False  # --no-short: no shipment HS codes shorter than a heading


def day(rng, start=dt.date(2023, 1, 1), span=365):
    return start + dt.timedelta(days=rng.randrange(span))


def gen(rng: random.Random, path: str) -> None:
    os.makedirs(path, exist_ok=True)
    sanctioned = ["KP"] + (["IR"] if rng.random() < 0.3 else [])
    # parties
    parties = []
    for i in range(rng.randint(2, 3)):
        parties.append((f"K{i}", "KP", ""))
    if "IR" in sanctioned:
        parties.append(("IR1", "IR", ""))
    for i in range(rng.randint(4, 9)):
        parties.append((f"C{i}", "CN", rng.choice(REGIONS + [""])))
    for i in range(rng.randint(1, 3)):
        parties.append((f"N{i}", rng.choice(["IN", "MM", "HK"]), ""))
    for i in range(2):
        parties.append((f"U{i}", "US", ""))
    with open(os.path.join(path, "parties.csv"), "w") as f:
        f.write("party_id,name,country,region\n")
        for p, c, r in parties:
            f.write(f"{p},Example {p},{c},{r}\n")
    ids = [p for p, _, _ in parties]
    cn = [p for p, c, _ in parties if c == "CN"]
    kp = [p for p, c, _ in parties if c == "KP"]
    # shipments
    rates = rng.random() < 0.4
    n = rng.randint(15, 70)
    with open(os.path.join(path, "shipments.csv"), "w") as f:
        f.write("shipment_id,date,shipper,consignee,hs_code,value,currency,origin_country\n")
        base = dt.date(2023, 1, 1)
        for i in range(n):
            shipper = rng.choice(cn) if rng.random() < 0.6 else rng.choice(ids)
            consignee = rng.choice(cn) if rng.random() < 0.6 else rng.choice(ids)
            if rng.random() < 0.12:  # outward processing: a Chinese firm ships to a KP party
                shipper, consignee = rng.choice(cn), rng.choice(kp)
            d = base + dt.timedelta(days=rng.randrange(0, 200 if rng.random() < 0.8 else 365))
            if rng.random() < 0.1:  # older trade: a counterparty outside the lag window, or past 730 days
                d = base - dt.timedelta(days=rng.randrange(1, 1100))
            v = rng.choice([0, 100, 250, 1000, 1000, 12345.67, round(rng.uniform(1, 5000), 2)])
            cur = "CNY" if rates and rng.random() < 0.3 else rng.choice(["USD", "", "usd"])
            origin = rng.choice(["", "", "", "CN", "KP", "IN"] + (["IR"] if "IR" in sanctioned else []))
            hs = rng.choice(OUT_HS) if rng.random() < 0.7 else rng.choice(HS)
            if NO_SHORT and len(hs.replace(".", "")) < 4:
                hs = "6704"
            val = f'"{v:,.2f}"' if rng.random() < 0.1 else f"{v}"
            f.write(f"S{i:03d},{d},{shipper},{consignee},{hs},{val},{cur},{origin}\n")
    if rates:
        with open(os.path.join(path, "rates.csv"), "w") as f:
            f.write("currency,period,usd_per_unit\nCNY,2023,0.14\nCNY,2022,0.15\nCNY,2021,0.155\nCNY,2020,0.145\n")
            for m in rng.sample(range(1, 13), 6):
                f.write(f"CNY,2023-{m:02d},{rng.choice(['0.1375', '0.141', '0.1452'])}\n")
    # statistics
    if rng.random() < 0.85:
        with open(os.path.join(path, "trade_flows.csv"), "w") as f:
            f.write("period,reporter,region,partner,flow,hs_code,value,currency\n")
            national = rng.random() < 0.5
            for _ in range(rng.randint(5, 45)):
                rep = "CN" if rng.random() < 0.85 else "IN"
                rg = "" if rep == "IN" else (rng.choice(REGIONS) if not national or rng.random() < 0.6 else "")
                flow = rng.choice(["import", "import", "export", "Export"])
                partner = rng.choice(["KP", "KP", "HK", "MO", "US", "IN", "MM", rep] + (["IR"] if "IR" in sanctioned else []))
                if flow.lower() == "export":
                    hs = rng.choice(["6704", "670420", "670490", "6703", "67", "420221", "0501"])
                else:
                    hs = rng.choice(HS)
                period = f"2022-{rng.randint(7, 12):02d}" if rng.random() < 0.2 else (
                    "2023" if rng.random() < 0.2 else ("2022" if rng.random() < 0.1 else f"2023-{rng.randint(1, 9):02d}"))
                cur = "CNY" if rates and rng.random() < 0.2 else "USD"
                v = rng.choice([10, 40, 100, 200, 1000, 3000, round(rng.uniform(1, 10000), 2)])
                f.write(f"{period},{rep},{rg},{partner},{flow},{hs},{v},{cur}\n")
    # supplier links
    if rng.random() < 0.8:
        with open(os.path.join(path, "supplier_links.csv"), "w") as f:
            f.write("link_id,buyer,supplier,hs_code,share,valid_from,valid_to\n")
            for i in range(rng.randint(1, 8)):
                buyer = rng.choice(cn + ids)
                sup = rng.choice(["country:KP", "country:IN", "country:CN", "country:MM", "country:US"] + ids)
                hs = rng.choice(["0501", "6703", "6704", "670420", "05", "67", "050100"])
                share = rng.choice(["1", "0.5", "0.3", "0.75", "0"])
                vf = str(day(rng)) if rng.random() < 0.3 else ""
                vt = str(day(rng, dt.date(2023, 6, 1), 200)) if rng.random() < 0.3 else ""
                if vf and vt and vt < vf:
                    vf, vt = vt, vf
                f.write(f"L{i},{buyer},{sup},{hs},{share},{vf},{vt}\n")
    # settings
    lines = []
    if rng.random() < 0.5:
        lines.append(f"lag_days = {rng.choice([0, 1, 30, 45, 90, 120, 365])}")
    if sanctioned != ["KP"]:
        lines.append(f"sanctioned_origins = {sanctioned!r}".replace("'", '"'))
    if rng.random() < 0.3:
        lines.append("transit_partners = [\"HK\"]")
    if rng.random() < 0.4:
        lines.append(f"counterparty_days = {rng.choice([0, 1, 30, 200, 365, 730, 1000])}")
    if rng.random() < 0.3:
        lines.append(f"severity = {{ medium = {rng.choice([0.001, 0.005, 0.05, 0.3])}, high = 0.5 }}")
    if rng.random() < 0.5:
        lines.append("[input_ratio]")
        for h in rng.sample(["6704", "6703", "4202"], rng.randint(1, 3)):
            lines.append(f"\"{h}\" = {rng.choice([0.0, 0.3, 0.5, 1.0, 2.0, 4.0])}")
    if rng.random() < 0.3:
        lines.append("[hs_inputs]")
        lines.append("\"4202\" = [\"6704\", \"05\"]")
        lines.append("\"6704\" = [\"0501\", \"6703\", \"6704\", \"4202\"]")
    if lines:
        with open(os.path.join(path, "origintrace.toml"), "w") as f:
            f.write("\n".join(lines) + "\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", default=os.path.join(tempfile.gettempdir(), "origintrace-fuzz"))
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "origintrace"))
    ap.add_argument("--no-short", action="store_true", help="no shipment HS codes shorter than 4 digits")
    ap.add_argument("--link-own-heading", action="store_true",
                    help="the twin reads party links as the engine does (duckdb_model.py --link-own-heading)")
    a = ap.parse_args(argv)
    global NO_SHORT
    NO_SHORT = a.no_short
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(a.cases):
            seed = a.seed * 100003 + i
            d = os.path.join(tmp, f"case{seed}")
            gen(random.Random(seed), d)
            p = subprocess.run([sys.executable, os.path.join(HERE, "compare.py"), "--data", d,
                                "--binary", a.binary] + (["--link-own-heading"] if a.link_own_heading else []),
                               capture_output=True, text=True)
            verdict = "AGREE" if p.returncode == 0 else "DISAGREE"
            print(f"case {seed}: {verdict}", flush=True)
            if p.returncode != 0:
                keep = os.path.join(a.keep, f"case{seed}")
                shutil.rmtree(keep, ignore_errors=True)
                shutil.copytree(d, keep)
                with open(os.path.join(keep, "compare.txt"), "w") as f:
                    f.write(p.stdout + p.stderr)
                failed.append(keep)
    print(f"\n{a.cases - len(failed)} of {a.cases} agree")
    for k in failed:
        print(f"  kept {k}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
