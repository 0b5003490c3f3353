#!/usr/bin/env bash
# End-to-end CLI timings on synthetic data, written as a table into docs/benchmarks.md.
#
#   bash benches/run.sh              # 1M and 10M shipments
#   bash benches/run.sh 100000 1000000
#   OT_BENCH_RUNS=3 bash benches/run.sh   # each report three times; the table shows the median run
#
# For each size: `synth`, then `check` (twice), `build`, `report` (CSV of every shipment) and `trace` of one shipment
# from the snapshot (twice), each under /usr/bin/time -v (wall clock and peak RSS). The report runs with
# ORIGINTRACE_TIMINGS=1, and its phase times make a second table. Where DuckDB is installed
# (`pip install duckdb`), the SQL twin (benches/peers/duckdb_model.py) runs on the 1M dataset for the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000000 10000000)
work=${OT_BENCH_DIR:-/tmp/origintrace-bench}
mkdir -p "$work"
cargo build --release --quiet
bin=target/release/origintrace
out=docs/benchmarks.md
rows=()
declare -A report_wall

measure() { # name, then the command; prints "wall_seconds peak_rss_kib"
  local name=$1; shift
  /usr/bin/time -v "$@" >"$work/$name.out" 2>"$work/$name.time" || { echo "failed: $*" >&2; tail -5 "$work/$name.time" >&2; return 1; }
  local wall rss
  wall=$(grep 'Elapsed (wall clock)' "$work/$name.time" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(grep 'Maximum resident set size' "$work/$name.time" | awk '{print $NF}')
  echo "$wall $rss"
}

for n in "${sizes[@]}"; do
  d="$work/synth-$n"
  [ -f "$d/shipments.csv" ] || "$bin" synth --shipments "$n" --seed 1 -o "$d"
  flows=$(($(wc -l <"$d/trade_flows.csv") - 1))
  total_rows=$(cat "$d"/*.csv | wc -l)
  # `check` twice too: the first run may read the CSV files from disk, the second reads them from memory; the
  # rate is the second's.
  read -r cw1 _ < <(measure "check1-$n" "$bin" check --data "$d")
  read -r cw cr < <(measure "check-$n" "$bin" check --data "$d")
  read -r bw br < <(measure "build-$n" "$bin" build --data "$d" -o "$d.snap")
  # The report OT_BENCH_RUNS times (default once): the median run's wall clock, peak RSS and phases.
  runs=()
  for i in $(seq "${OT_BENCH_RUNS:-1}"); do
    read -r w r < <(measure "report-$n-$i" env ORIGINTRACE_TIMINGS=1 "$bin" report --data "$d" -o "$work/report-$n.csv")
    runs+=("$w $r $i")
  done
  read -r rw rr mid < <(printf '%s\n' "${runs[@]}" | sort -n | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }')
  cp "$work/report-$n-$mid.time" "$work/report-$n.time"
  median=""
  if [ ${#runs[@]} -gt 1 ]; then
    median=" (median of $(printf '%s\n' "${runs[@]}" | awk '{ print $1 }' | paste -sd/ -))"
  fi
  report_wall[$n]=$rw
  id=$(sed -n 2p "$d/shipments.csv" | cut -d, -f1)
  # Twice: the first run may read the snapshot from disk (the report above can push it out of the page cache),
  # the second reads it from memory.
  read -r tw tr < <(measure "trace-$n" "$bin" trace "$id" --data "$d.snap")
  read -r tw2 tr2 < <(measure "trace2-$n" "$bin" trace "$id" --data "$d.snap")
  rate=$(awk -v r="$total_rows" -v w="$cw" 'BEGIN { printf "%.0f", (w > 0 ? r / w : 0) }')
  rows+=("| $n | $flows | $cw1 s / $cw s ($rate rows/s), $((cr / 1024)) MiB | $bw s, $((br / 1024)) MiB | $rw s$median, $((rr / 1024)) MiB | $tw s / $tw2 s, $((tr2 / 1024)) MiB |")
  echo "${rows[-1]}"
done

twin="not run (pip install duckdb)"
if python3 -c 'import duckdb' 2>/dev/null && [ -f benches/peers/duckdb_model.py ]; then
  d="$work/synth-${sizes[0]}"
  read -r dw _ < <(measure twin python3 benches/peers/duckdb_model.py --data "$d" --out "$work/twin.csv")
  ow=${report_wall[${sizes[0]}]}
  twin="${sizes[0]} shipments: SQL twin $dw s, origintrace report $ow s (ratio $(awk -v a="$dw" -v b="$ow" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }'))"
fi

{
  echo "# Benchmarks"
  echo
  echo "Written by \`bash benches/run.sh\` on $(date -u +%Y-%m-%d), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -m)."
  echo "Synthetic data from \`origintrace synth --seed 1\`. Wall clock and peak RSS from /usr/bin/time -v."
  echo
  echo "| shipments | statistics rows | check (1st / 2nd run) | build (snapshot) | report (CSV) | trace from snapshot (1st / 2nd run) |"
  echo "|---:|---:|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "SQL twin: $twin."
  echo
  echo "Where the report's wall time goes (\`ORIGINTRACE_TIMINGS=1\`, seconds per phase):"
  echo
  header="| phase |"; rule="|---|"
  for n in "${sizes[@]}"; do header="$header $n |"; rule="$rule---:|"; done
  echo "$header"; echo "$rule"
  phases() { sed -nE 's/^timing: (.*) ([0-9.]+) s \(total .*/\1|\2/p' "$work/report-$1.time"; }
  while IFS='|' read -r phase _; do
    line="| $phase |"
    for n in "${sizes[@]}"; do
      line="$line $(phases "$n" | awk -F'|' -v p="$phase" '$1 == p { print $2; exit }') |"
    done
    echo "$line"
  done < <(phases "${sizes[0]}")
  echo
  echo "Targets (issue 6): check ≥ 2M rows/s; report ≤ 20 s and ≤ 4 GiB at 10M; report at 10M ≤ 12 × at 1M;"
  echo "trace from a 10M snapshot ≤ 50 ms; ≥ 10 × faster than the SQL twin at 1M."
} >"$out.new"
if [ -f "$out" ] && grep -q '^## Notes' "$out"; then
  echo >>"$out.new"
  sed -n '/^## Notes/,$p' "$out" >>"$out.new"
fi
mv "$out.new" "$out"
echo "wrote $out"
