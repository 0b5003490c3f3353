#!/usr/bin/env python3
"""Hostile graph shapes for the bounded-work benchmarks (issue 14), written as canonical datasets.

    python3 benches/hostile.py self OUT_DIR [N]       # kp(KP) -> a, then N shipments a -> a (8 a day), then a -> u
    python3 benches/hostile.py lattice OUT_DIR [L W]  # L layers of W firms, every firm shipping to every firm
                                                       # of the next layer (30 x 30: 26,100 shipments)
    python3 benches/hostile.py chain OUT_DIR [N]      # N parties p0 (KP) -> p1 -> ... -> pN-1, one shipment a day

Deterministic (no randomness): the same arguments give the same files. Each dataset's README.txt names the
shipment and the party the benchmark traces. Company names are fictional.
"""
import datetime
import os
import sys

HS = "670420"


def day(d0, n):
    return (d0 + datetime.timedelta(days=n)).isoformat()


def write(out, parties, shipments, note):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "parties.csv"), "w") as f:
        f.write("party_id,name,country\n")
        for pid, name, country in parties:
            f.write(f"{pid},{name},{country}\n")
    with open(os.path.join(out, "shipments.csv"), "w") as f:
        f.write("shipment_id,date,shipper,consignee,hs_code,value\n")
        for row in shipments:
            f.write(",".join(row) + "\n")
    with open(os.path.join(out, "README.txt"), "w") as f:
        f.write(note + "\n")


def self_shipments(out, n):
    d0 = datetime.date(2000, 1, 1)
    parties = [("kp", "Fictional Kp Source", "KP"), ("a", "Fictional A Trading", "CN"), ("u", "Fictional U Imports", "US")]
    ships = [("S0", day(d0, 0), "kp", "a", HS, "1000")]
    for i in range(n):
        ships.append((f"S{i + 1}", day(d0, 1 + i // 8), "a", "a", HS, "1000"))
    last = 2 + (n - 1) // 8 if n else 1
    ships.append((f"S{n + 1}", day(d0, last), "a", "u", HS, "1000"))
    write(out, parties, ships, f"trace S{n + 1}; paths --from KP --to u")


def lattice(out, layers, width):
    d0 = datetime.date(2000, 1, 1)
    parties = [(f"l{i}_{j}", f"Fictional Lattice {i}-{j}", "KP" if i == 0 else "CN") for i in range(layers) for j in range(width)]
    ships = []
    for i in range(layers - 1):
        for j in range(width):
            for k in range(width):
                ships.append((f"L{i}_{j}_{k}", day(d0, i), f"l{i}_{j}", f"l{i + 1}_{k}", HS, "1000"))
    last = ships[-1][0]
    write(out, parties, ships, f"trace {last}; paths --from KP --to l{layers - 1}_0")


def chain(out, n):
    d0 = datetime.date(1900, 1, 1)
    parties = [(f"p{i}", f"Fictional Chain {i}", "KP" if i == 0 else "CN") for i in range(n)]
    ships = [(f"C{i}", day(d0, i), f"p{i}", f"p{i + 1}", HS, "1000") for i in range(n - 1)]
    write(out, parties, ships, f"trace C{n - 2}; paths --from KP --to p{n - 1}")


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    kind, out, rest = argv[1], argv[2], [int(x) for x in argv[3:]]
    if kind == "self":
        self_shipments(out, *(rest or [20000]))
    elif kind == "lattice":
        lattice(out, *(rest or [30, 30]))
    elif kind == "chain":
        chain(out, *(rest or [100000]))
    else:
        sys.exit(f"unknown shape {kind!r}\n{__doc__}")


if __name__ == "__main__":
    main(sys.argv)
