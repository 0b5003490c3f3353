#!/usr/bin/env python3
"""Compares origintrace's engine with its SQL twin (benches/peers/duckdb_model.py) on one dataset.

Runs `origintrace report --format json --data DIR` and the twin on the same dataset, reports the largest
absolute difference of every share column and of `prevalence` (null on both sides where the output takes no
pool), the symmetric difference of the flagged shipment sets for the six rules the twin computes
(`sanctioned-exposure`, `regional-prevalence`, `sanctioned-counterparty`, `sanctioned-consignee`,
`origin-mislabel`, `low-coverage`) and their severities, and times both (wall clock, process start included)
side by side. Exit 1 when a share or a prevalence differs by more than 1e-9, a flagged set or a severity
differs, or a shipment is missing on either side.

With `--via-parquet` the twin reads the tables from Parquet instead of CSV: the engine first writes them with
`origintrace export --format parquet` (a binary built with `--features parquet`; `--build` builds one), and
the engine's own mixes.parquet is checked against its report too. `--parquet DIR` gives the twin Parquet
files written earlier (docs/parquet.md).

Usage: python3 benches/peers/compare.py [--data DIR | --each ROOT] [--binary PATH] [--build] [--runs N]
                                       [--threads N] [--config FILE] [--lag-days N] [--link-own-heading]
                                       [--via-parquet | --parquet DIR | --twin-output FILE]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
TWIN = os.path.join(HERE, "duckdb_model.py")
TOL = 1e-9
SHARES = ["sanctioned", "clean", "unknown", "documented", "declared", "statistical", "coverage"]
RULES = ["sanctioned-exposure", "regional-prevalence", "sanctioned-counterparty", "sanctioned-consignee",
         "origin-mislabel", "low-coverage"]
SEVERITY = {"none": 0, "low": 1, "medium": 2, "high": 3}
REJECTED = 3  # exit status: the engine rejected the dataset as bad input (exit 2), nothing compared
MISSING = object()  # an engine row without a `prevalence` key (a model v1 engine)


def prevalence(x):
    """A prevalence from either side: a float, None where the output takes no pool (JSON null, empty CSV)."""
    if x is MISSING:
        return MISSING
    return None if x is None or x == "" else float(x)


def timed(cmd: list[str], **kw) -> tuple[float, subprocess.CompletedProcess]:
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, **kw)
    return time.perf_counter() - t, p


def run_engine(binary: str, data: str, extra: list[str]) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "report.json")
        secs, p = timed([binary, "report", "--format", "json", "--data", data, "-o", out, *extra])
        if p.returncode != 0:
            err = p.stderr.decode(errors="replace").strip()
            print(f"engine failed ({p.returncode}): {err}", file=sys.stderr)
            # Exit 2 is the engine rejecting bad input (the ingest fixtures): nothing for the twin to check,
            # which assumes valid input. --each lists such datasets apart.
            sys.exit(REJECTED if p.returncode == 2 else 1)
        with open(out, encoding="utf-8") as f:
            doc = json.load(f)
    rows = {"__settings__": doc.get("run", {}).get("settings", {})}  # popped by main
    for r in doc["shipments"]:
        # A flag is a rule id, or an object with its rule and severity (then each rule's severity is compared).
        flags = [f if isinstance(f, str) else f["rule"] for f in r["flags"]]
        per_rule = {f["rule"]: f.get("severity") for f in r["flags"] if isinstance(f, dict)}
        rows[r["shipment_id"]] = {
            **{k: float(r[k]) for k in SHARES},
            "prevalence": prevalence(r.get("prevalence", MISSING)),
            "flags": [f for f in flags if f in RULES],
            "all_flags": flags,
            "rule_severity": {k: v for k, v in per_rule.items() if k in RULES and v},
            "reachable": r.get("reachable"),
            "severity": r.get("severity", "none"),
        }
    return secs, rows


def export_parquet(binary: str, data: str, extra: list[str], out: str) -> float:
    """`origintrace export --format parquet -o OUT`: the tables the twin reads with --parquet."""
    secs, p = timed([binary, "export", "--format", "parquet", "--data", data, "-o", out, *extra])
    if p.returncode != 0:
        err = p.stderr.decode(errors="replace").strip()
        hint = ("\n(--build makes a binary with the parquet feature)" if "--features parquet" in err else "")
        sys.exit(f"export --format parquet failed ({p.returncode}): {err.splitlines()[-1] if err else ''}{hint}")
    return secs


def mixes_vs_report(pq: str, eng: dict) -> tuple[int, float, int]:
    """The engine's mixes.parquet against its own report: (rows compared, largest |diff| of any share,
    rows missing on either side or whose `reachable` differs). Both come from the same engine: they must be equal."""
    import duckdb

    con = duckdb.connect(":memory:")
    rows = con.execute(f"SELECT shipment_id, reachable, {', '.join(SHARES)} FROM read_parquet(?)",
                       [os.path.join(pq, "mixes.parquet")]).fetchall()
    worst, bad = 0.0, 0
    seen = set()
    for r in rows:
        sid, reachable, vals = r[0], r[1], r[2:]
        seen.add(sid)
        e = eng.get(sid)
        if e is None or e["reachable"] != reachable:
            bad += 1
            continue
        worst = max([worst] + [abs(e[k] - v) for k, v in zip(SHARES, vals)])
    bad += len(set(eng) - seen)
    return len(rows), worst, bad


def run_twin(data: str, extra: list[str], threads: int | None, parquet: str | None = None) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "twin.csv")
        cmd = [sys.executable, TWIN, "--data", data, "-o", out, *extra]
        if parquet:
            cmd += ["--parquet", parquet]
        if threads:
            cmd += ["--threads", str(threads)]
        secs, p = timed(cmd)
        if p.returncode != 0:
            sys.exit(f"twin failed ({p.returncode}): {p.stderr.decode(errors='replace').strip()}")
        return secs, read_twin(out)


def read_twin(path: str) -> dict:
    """A twin's output CSV: `shipment_id,sanctioned,clean,unknown,documented,declared,statistical,coverage,
    prevalence,flags,severity,flag_severities` (docs/twin.md), from this twin or from a port of it to another
    engine."""
    rows = {}
    with open(path, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            flags = [x for x in (r["flags"] or "").split(";") if x]
            sevs = [x for x in (r["flag_severities"] or "").split(";") if x]
            if len(sevs) != len(flags):
                sys.exit(f"{path}: shipment {r['shipment_id']}: {len(flags)} flags but {len(sevs)} severities")
            rows[r["shipment_id"]] = {
                **{k: float(r[k]) for k in SHARES},
                "prevalence": prevalence(r["prevalence"]),
                "flags": flags,
                "rule_severity": dict(zip(flags, sevs)),
                "severity": r.get("severity") or "none",
            }
    return rows


def cargo_build(features: list[str]) -> list[str]:
    return ["cargo", "build", "--release", "--quiet"] + (["--features", ",".join(features)] if features else [])


def ensure_binary(path: str, default: bool, features: list[str]) -> str:
    if os.path.exists(path):
        return path
    if not default:
        sys.exit(f"{path}: no such binary")
    print(f"building the engine: {' '.join(cargo_build(features)[:3])}", file=sys.stderr)
    p = subprocess.run(cargo_build(features), cwd=ROOT)
    if p.returncode != 0 or not os.path.exists(path):
        sys.exit("cargo build --release failed")
    return path


def datasets_under(root: str) -> list[str]:
    """Every directory under `root` (itself included) that holds a canonical file."""
    found = []
    for d, _, files in os.walk(root):
        if any(f in files for f in ("parties.csv", "shipments.csv")):
            found.append(d)
    return sorted(found)


def each(a, binary: str) -> int:
    bad = agree = skipped = 0
    for d in datasets_under(a.each):
        cmd = [sys.executable, os.path.abspath(__file__), "--data", d, "--binary", binary]
        if a.link_own_heading:
            cmd.append("--link-own-heading")
        if a.via_parquet:
            cmd.append("--via-parquet")
        if a.threads:
            cmd += ["--threads", str(a.threads)]
        p = subprocess.run(cmd, capture_output=True, text=True)
        lines = (p.stdout + p.stderr).strip().splitlines()
        verdict = lines[-1] if lines else "?"
        if p.returncode == REJECTED:
            skipped += 1
            print(f"skip {os.path.relpath(d)}: the engine rejects it as bad input: {verdict}", flush=True)
            continue
        bad += p.returncode != 0
        agree += p.returncode == 0
        print(f"{'ok  ' if p.returncode == 0 else 'FAIL'} {os.path.relpath(d)}: {verdict}", flush=True)
    print(f"{agree} agree, {bad} disagree, {skipped} rejected by the engine as bad input (not compared)")
    return 1 if bad else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.path.join(ROOT, "data", "sample"))
    ap.add_argument("--each", metavar="ROOT", help="compare on every dataset directory under ROOT, one line each")
    default_bin = os.path.join(ROOT, "target", "release", "origintrace")
    ap.add_argument("--binary", default=default_bin)
    ap.add_argument("--build", action="store_true", help="cargo build --release first")
    ap.add_argument("--config", help="settings file passed to both")
    ap.add_argument("--lag-days", type=int, help="passed to both")
    ap.add_argument("--runs", type=int, default=1, help="time each side this many times (best wall clock)")
    ap.add_argument("--threads", type=int, help="DuckDB threads for the twin (default: all cores)")
    ap.add_argument("--show", type=int, default=5, help="list this many worst shipments per column")
    ap.add_argument("--link-own-heading", action="store_true",
                    help="the twin reads party links as the engine does (duckdb_model.py --link-own-heading)")
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--via-parquet", action="store_true",
                     help="the twin reads Parquet written by `origintrace export --format parquet` (needs a "
                          "binary built with --features parquet)")
    src.add_argument("--parquet", metavar="DIR", help="the twin reads these Parquet files (written earlier)")
    src.add_argument("--twin-output", metavar="FILE",
                     help="compare the engine with this twin output CSV instead of running the twin (e.g. the "
                          "result of a port of the twin to Spark; docs/parquet.md)")
    a = ap.parse_args(argv)
    features = ["parquet"] if a.via_parquet else []
    if a.build:
        if subprocess.run(cargo_build(features), cwd=ROOT).returncode != 0:
            sys.exit("cargo build --release failed")
    binary = ensure_binary(a.binary, a.binary == default_bin, features)
    if a.each:
        return each(a, binary)
    extra = []
    if a.config:
        extra += ["--config", a.config]
    if a.lag_days is not None:
        extra += ["--lag-days", str(a.lag_days)]

    et, tt = [], []
    with tempfile.TemporaryDirectory() as pq_tmp:
        pq = a.parquet
        export_secs = None
        if a.via_parquet:
            pq = pq_tmp
            export_secs = export_parquet(binary, a.data, extra, pq)
        for _ in range(max(1, a.runs)):
            s, eng = run_engine(binary, a.data, extra)
            et.append(s)
            if a.twin_output:
                s, twin = 0.0, read_twin(a.twin_output)
            else:
                s, twin = run_twin(a.data, extra + (["--link-own-heading"] if a.link_own_heading else []),
                                   a.threads, pq)
            tt.append(s)
        mixes = mixes_vs_report(pq, {k: v for k, v in eng.items() if k != "__settings__"}) if a.via_parquet else None

    settings = eng.pop("__settings__")
    ok = True
    print(f"dataset: {a.data}" + (f" (the twin read Parquet: {'written by export' if a.via_parquet else pq})"
                                  if pq else ""))
    if mixes is not None:
        n, worst, bad = mixes
        print(f"mixes.parquet vs the engine's report: {n} rows, max |diff| {worst:.3e}, "
              f"{bad} missing, extra or differing in reachable")
        ok &= worst == 0.0 and bad == 0
    print(f"shipments: engine {len(eng)}, twin {len(twin)}")
    only_e = sorted(set(eng) - set(twin))
    only_t = sorted(set(twin) - set(eng))
    if only_e or only_t:
        ok = False
        print(f"  only in the engine: {only_e[:10]}{' …' if len(only_e) > 10 else ''}")
        print(f"  only in the twin:   {only_t[:10]}{' …' if len(only_t) > 10 else ''}")
    common = sorted(set(eng) & set(twin))

    print(f"\n{'column':<12} {'max |diff|':>12}  worst shipment")
    for k in SHARES:
        diffs = sorted(((abs(eng[s][k] - twin[s][k]), s) for s in common), reverse=True)
        worst, ws = diffs[0] if diffs else (0.0, "")
        bad = worst > TOL
        ok &= not bad
        print(f"{k:<12} {worst:12.3e}  {ws if worst > 0 else ''}{'  > 1e-9' if bad else ''}")
        if bad:
            for d, s in diffs[: a.show]:
                if d <= TOL:
                    break
                print(f"    {s}: engine {eng[s][k]!r}, twin {twin[s][k]!r}")

    # Prevalence: a number within 1e-9 on both sides, or null on both (the output takes no pool).
    def prev_diff(s: str) -> float:
        pe, pt = eng[s]["prevalence"], twin[s]["prevalence"]
        if pe is None and pt is None:
            return 0.0
        if pe is None or pt is None or pe is MISSING:
            return float("inf")
        return abs(pe - pt)

    no_prev = sum(1 for s in common if eng[s]["prevalence"] is MISSING)
    diffs = sorted(((prev_diff(s), s) for s in common), reverse=True)
    worst, ws = diffs[0] if diffs else (0.0, "")
    bad = worst > TOL
    ok &= not bad
    nulls = sum(1 for s in common if twin[s]["prevalence"] is None)
    print(f"{'prevalence':<12} {worst:12.3e}  {ws if worst > 0 else ''}{'  > 1e-9' if bad else ''}"
          f"  (null in the twin: {nulls})")
    if no_prev:
        print(f"    the engine's report has no `prevalence` on {no_prev} rows (a model v1 engine?)")
    if bad:
        for d, s in diffs[: a.show]:
            if d <= TOL:
                break
            pe = eng[s]["prevalence"]
            print(f"    {s}: engine {'(no key)' if pe is MISSING else repr(pe)}, twin {twin[s]['prevalence']!r}")

    # A flag decided by a share within the tolerance of its threshold may differ: the shares themselves may
    # differ by 1e-9 (summation order). Such cases are listed apart and do not fail the comparison: the
    # deciding values agree to 1e-9 on both sides and one of them lies within 1e-9 of a threshold the rules
    # put on it (severity.medium, severity.high, 0.5; for the "> 0" of SPEC, i.e. > 1e-12: a value that is
    # not 0 but at most 1e-9).
    sev = settings.get("severity") or {}
    med, high = float(sev.get("medium", 0.01)), float(sev.get("high", 0.10))
    sanctioned = (lambda r: r["sanctioned"], [0.0, med, high])
    firm = (lambda r: r["documented"] + r["declared"], [0.0, med])
    coverage = (lambda r: r["coverage"], [0.5])
    prev = (lambda r: r["prevalence"], [0.0, med])

    def on_threshold(x: float, th: float) -> bool:
        return 0.0 < abs(x) <= TOL if th == 0.0 else abs(x - th) <= TOL

    def at_threshold(s: str, *values) -> bool:
        for v, _ in values:
            x, y = v(eng[s]), v(twin[s])
            if (x is None) != (y is None) or x is MISSING:
                return False
            if x is not None and abs(x - y) > TOL:
                return False
        return any(on_threshold(x, th) for v, ths in values for x in (v(eng[s]), v(twin[s])) if x is not None
                   for th in ths)

    # The two counterparty rules read no share: a difference in them is never at a threshold.
    deciding = {
        "sanctioned-exposure": lambda s: at_threshold(s, sanctioned),
        "regional-prevalence": lambda s: at_threshold(s, prev, coverage),
        "sanctioned-counterparty": lambda s: False,
        "sanctioned-consignee": lambda s: False,
        "origin-mislabel": lambda s: at_threshold(s, firm),
        "low-coverage": lambda s: at_threshold(s, coverage),
    }
    boundary = []
    print(f"\n{'rule':<24} {'engine':>7} {'twin':>7}  symmetric difference")
    for rule in RULES:
        fe = {s for s in common if rule in eng[s]["flags"]}
        ft = {s for s in common if rule in twin[s]["flags"]}
        sym = sorted(fe ^ ft)
        at = [s for s in sym if deciding[rule](s)]
        boundary += [(s, rule) for s in at]
        sym = [s for s in sym if s not in at]
        ok &= not sym
        shown = ", ".join(f"{s} ({'engine' if s in fe else 'twin'})" for s in sym[: a.show])
        print(f"{rule:<24} {len(fe):7d} {len(ft):7d}  {len(sym)}{': ' + shown if sym else ''}")

    # Severity. Where the engine's flags carry their severity, each of the six rules' must equal the twin's.
    # The report's `severity` is a shipment's highest: where every flag of the engine's row is one of the six
    # rules it must equal the twin's highest; where the row has other flags (watchlist, patterns, price,
    # reachable) it cannot be lower.
    def close(s: str) -> bool:
        return at_threshold(s, sanctioned, firm, coverage, prev)

    sev_bad = []
    per_rule = 0
    for s in common:
        t = twin[s]
        want = SEVERITY[t["severity"]]
        got = SEVERITY.get(eng[s]["severity"], 0)
        only_rules = all(f in RULES for f in eng[s]["all_flags"])
        wrong = (only_rules and got != want) or got < want
        for rule, sev in eng[s]["rule_severity"].items():
            per_rule += 1
            wrong |= rule in t["rule_severity"] and t["rule_severity"][rule] != sev
        if wrong:
            if close(s):
                boundary.append((s, "severity"))
            else:
                sev_bad.append(s)
    checked = sum(1 for s in common if all(f in RULES for f in eng[s]["all_flags"]))
    print(f"severity: {checked} rows checked exactly, the rest as a lower bound"
          + (f", {per_rule} flags by their own severity" if per_rule else "")
          + f"; {len(sev_bad)} mismatches")
    for s in sev_bad[: a.show]:
        t = twin[s]
        print(f"    {s}: engine {eng[s]['severity']} {eng[s]['all_flags']}, twin {t['severity']} "
              f"{[f'{f}:{v}' for f, v in t['rule_severity'].items()]}")
    ok &= not sev_bad
    if boundary:
        shown = ", ".join(f"{s} ({r})" for s, r in boundary[: a.show])
        print(f"at a threshold (deciding values equal to 1e-9 and within 1e-9 of a threshold; not counted): {len(boundary)}: {shown}")

    e, t = min(et), min(tt)
    print(f"\n{'':<8} {'wall (s)':>9}")
    print(f"{'engine':<8} {e:9.3f}   origintrace report --format json")
    if a.twin_output:
        print(f"{'twin':<8} {'':>9}   read from {a.twin_output}")
    else:
        print(f"{'twin':<8} {t:9.3f}   python3 benches/peers/duckdb_model.py" + (" --parquet" if pq else ""))
    if export_secs is not None:
        print(f"{'export':<8} {export_secs:9.3f}   origintrace export --format parquet (not in either time)")
    if e > 0 and t > 0:
        print(f"engine {t / e:.1f}x faster than the twin" if t >= e else f"twin {e / t:.1f}x faster than the engine")
    print("\nAGREE" if ok else "\nDISAGREE")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
