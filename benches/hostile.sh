#!/usr/bin/env bash
# Bounded work on hostile graph shapes (issue 14): `report`, `trace` and `paths` on each shape under
# /usr/bin/time -v, as a Markdown table on stdout; exits 1 when a run takes more than 10 s or 1 GiB.
#
#   bash benches/hostile.sh                  # the issue's sizes: N = 20,000 self-shipments, a 30 x 30 lattice,
#                                            # a 100,000-party chain
#   OT_BENCH_DIR=/tmp/x bash benches/hostile.sh
#
# The datasets come from benches/hostile.py (deterministic); each run's output and time -v log stay in
# $OT_BENCH_DIR. benches/run.sh (synthetic national-size data) is separate and unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${OT_BENCH_DIR:-/tmp/origintrace-hostile}
mkdir -p "$work"
cargo build --release --quiet
bin=$PWD/target/release/origintrace
max_wall=10
max_kib=$((1024 * 1024))
fail=0

# shape, generator arguments, shipment to trace, party for paths --to
shapes=(
  "self|self 20000|S20001|u"
  "lattice|lattice 30 30|L28_29_29|l29_0"
  "chain|chain 100000|C99998|p99999"
)

echo "| shape | shipments | command | wall | peak RSS | cut |"
echo "|---|---:|---|---:|---:|---|"
for s in "${shapes[@]}"; do
  IFS='|' read -r name gen ship party <<<"$s"
  d="$work/$name"
  # shellcheck disable=SC2086
  [ -f "$d/shipments.csv" ] || python3 benches/hostile.py "${gen%% *}" "$d" ${gen#* } >/dev/null
  n=$(($(wc -l <"$d/shipments.csv") - 1))
  for cmd in "report --format json" "trace $ship --format json" "paths --from KP --to $party --format json"; do
    tag="$name-${cmd%% *}"
    # shellcheck disable=SC2086
    /usr/bin/time -v "$bin" $cmd --data "$d" >"$work/$tag.json" 2>"$work/$tag.time" || {
      echo "failed: $cmd on $name" >&2; tail -5 "$work/$tag.time" >&2; fail=1; continue; }
    wall=$(grep 'Elapsed (wall clock)' "$work/$tag.time" | awk '{print $NF}' |
      awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
    kib=$(grep 'Maximum resident set size' "$work/$tag.time" | awk '{print $NF}')
    # Whether the run says its list was cut: the trace's paths_truncated, the walk's cut_by; a report
    # counts its rows whose top path is empty although their sanctioned share is not.
    cut=$(python3 - "$work/$tag.json" "${cmd%% *}" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
kind = sys.argv[2]
if kind == "trace":
    print(f"paths_truncated={str(d['paths_truncated']).lower()}, {len(d['paths'])} shown")
elif kind == "paths":
    print(f"cut_by={','.join(d['cut_by']) or '-'}, {len(d['paths'])} found")
else:
    rows = d.get("shipments", [])
    empty = sum(1 for r in rows if r.get("sanctioned", 0) > 0 and not r.get("top_path"))
    print(f"{empty} of {len(rows)} rows with a sanctioned share have no top path")
PY
)
    echo "| $name | $n | \`${cmd}\` | $wall s | $((kib / 1024)) MiB | $cut |"
    if awk -v w="$wall" -v m="$max_wall" 'BEGIN { exit !(w > m) }' || [ "$kib" -gt "$max_kib" ]; then
      echo "over the bound ($max_wall s, 1 GiB): $cmd on $name" >&2
      fail=1
    fi
  done
done
echo
echo "$(date -u +%Y-%m-%d), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(uname -m)."
exit $fail
