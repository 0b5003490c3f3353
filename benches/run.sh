#!/usr/bin/env bash
# End-to-end CLI timings on synthetic data, written as tables into docs/benchmarks.md, with the issue-17
# targets and whether each is met.
#
#   bash benches/run.sh              # 1M and 10M shipments
#   bash benches/run.sh 100000 1000000
#   OT_BENCH_RUNS=3 bash benches/run.sh   # each CSV report three times; the table shows the median run
#   OT_BENCH_TWIN=0 bash benches/run.sh   # without the SQL twin (it needs `pip install duckdb`)
#
# For each size: `synth`, then `check` (twice), `build`, `report` (CSV of every shipment, then JSON and the
# HTML page), and `trace` of one shipment and `vet` of one importer from the snapshot (twice each), each under
# /usr/bin/time -v (wall clock and peak RSS). The CSV report runs with ORIGINTRACE_TIMINGS=1, and its phase
# times make a second table. Where DuckDB is installed, the SQL twin (benches/peers/duckdb_model.py) runs on
# every size in the same run, for the ratio. The targets are checked on the largest size (the issue measures
# them at 10M); the per-shipment cost compares the largest size with the smallest.
#
# At 10M on this 2-core machine its parts took about 12 minutes in all (docs/benchmarks.md: JSON 222 s, HTML
# 159 s, CSV 103-125 s, the twin 106 s, build 58 s); keep it out of CI.
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
declare -A report_wall report_rss json_wall json_rss html_wall html_rss build_wall build_rss
declare -A trace_warm vet_warm check_rate twin_wall

measure() { # name, then the command; prints "wall_seconds peak_rss_kib"
  local name=$1; shift
  /usr/bin/time -v "$@" >"$work/$name.out" 2>"$work/$name.time" || { echo "failed: $*" >&2; tail -5 "$work/$name.time" >&2; return 1; }
  local wall rss
  wall=$(grep 'Elapsed (wall clock)' "$work/$name.time" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(grep 'Maximum resident set size' "$work/$name.time" | awk '{print $NF}')
  echo "$wall $rss"
}
mib() { echo $(($1 / 1024)); }
twin=0
if [ "${OT_BENCH_TWIN:-1}" != 0 ] && python3 -c 'import duckdb' 2>/dev/null; then twin=1; fi

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
  build_wall[$n]=$bw; build_rss[$n]=$br
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
  report_wall[$n]=$rw; report_rss[$n]=$rr
  read -r jw jr < <(measure "json-$n" "$bin" report --data "$d" --format json -o "$work/report-$n.json")
  read -r hw hr < <(measure "html-$n" "$bin" report --data "$d" --format html -o "$work/report-$n.html")
  json_wall[$n]=$jw; json_rss[$n]=$jr; html_wall[$n]=$hw; html_rss[$n]=$hr
  rm -f "$work/report-$n.json"
  id=$(sed -n 2p "$d/shipments.csv" | cut -d, -f1)
  party=$(sed -n 2p "$d/shipments.csv" | cut -d, -f4)
  # Twice: the first run may read the snapshot from disk (the reports above can push it out of the page
  # cache), the second reads it from memory.
  read -r tw _ < <(measure "trace-$n" "$bin" trace "$id" --data "$d.snap")
  read -r tw2 tr2 < <(measure "trace2-$n" "$bin" trace "$id" --data "$d.snap")
  read -r vw _ < <(measure "vet-$n" "$bin" vet "$party" --data "$d.snap")
  read -r vw2 vr2 < <(measure "vet2-$n" "$bin" vet "$party" --data "$d.snap")
  trace_warm[$n]=$tw2; vet_warm[$n]=$vw2
  rate=$(awk -v r="$total_rows" -v w="$cw" 'BEGIN { printf "%.0f", (w > 0 ? r / w : 0) }')
  check_rate[$n]=$rate
  twin_cell="not run"
  if [ $twin = 1 ]; then
    read -r dw _ < <(measure "twin-$n" python3 benches/peers/duckdb_model.py --data "$d" --out "$work/twin-$n.csv")
    twin_wall[$n]=$dw
    twin_cell="$dw s ($(awk -v a="$dw" -v b="$rw" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }') ×)"
  fi
  rows+=("| $n | $flows | $cw1 s / $cw s ($rate rows/s), $(mib "$cr") MiB | $bw s, $(mib "$br") MiB | $rw s$median, $(mib "$rr") MiB | $jw s, $(mib "$jr") MiB | $hw s, $(mib "$hr") MiB | $tw s / $tw2 s, $(mib "$tr2") MiB | $vw s / $vw2 s, $(mib "$vr2") MiB | $twin_cell |")
  echo "${rows[-1]}"
done

big=${sizes[-1]}
small=${sizes[0]}
gib4=$((4 * 1024 * 1024))
yes_no() { awk "BEGIN { print (($1) ? \"yes\" : \"no\") }"; }
target_rows=()
target() { target_rows+=("| $1 | $2 | $3 | $4 |"); }
target "\`report\` (CSV) at $big" "≤ 20 s, ≤ 4 GiB" "${report_wall[$big]} s, $(mib "${report_rss[$big]}") MiB" \
  "$(yes_no "${report_wall[$big]} <= 20 && ${report_rss[$big]} <= $gib4")"
target "\`report --format json\` at $big" "streamed, ≤ 4 GiB" "${json_wall[$big]} s, $(mib "${json_rss[$big]}") MiB" \
  "$(yes_no "${json_rss[$big]} <= $gib4")"
target "\`report --format html\` at $big" "streamed, ≤ 4 GiB" "${html_wall[$big]} s, $(mib "${html_rss[$big]}") MiB" \
  "$(yes_no "${html_rss[$big]} <= $gib4")"
target "\`build\` at $big" "≤ 30 s, ≤ 4 GiB" "${build_wall[$big]} s, $(mib "${build_rss[$big]}") MiB" \
  "$(yes_no "${build_wall[$big]} <= 30 && ${build_rss[$big]} <= $gib4")"
target "\`trace\` / \`vet\` from the $big snapshot, warm" "≤ 50 ms" "${trace_warm[$big]} s / ${vet_warm[$big]} s" \
  "$(yes_no "${trace_warm[$big]} <= 0.05 && ${vet_warm[$big]} <= 0.05")"
target "\`check\` at $big" "≥ 5M rows/s" "${check_rate[$big]} rows/s" "$(yes_no "${check_rate[$big]} >= 5000000")"
for n in "${sizes[@]}"; do
  if [ -n "${twin_wall[$n]:-}" ]; then
    target "report vs the SQL twin at $n" "≥ 5 × faster" \
      "twin ${twin_wall[$n]} s, report ${report_wall[$n]} s" \
      "$(yes_no "${twin_wall[$n]} >= 5 * ${report_wall[$n]}")"
  fi
done
if [ "$big" != "$small" ]; then
  factor=$(awk -v a="$big" -v b="$small" 'BEGIN { print a / b }')
  target "report at $big vs at $small" "≤ $(awk -v f="$factor" 'BEGIN { print 1.1 * f }') × (per shipment flat)" \
    "$(awk -v a="${report_wall[$big]}" -v b="${report_wall[$small]}" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }') ×" \
    "$(yes_no "${report_wall[$big]} <= 1.1 * $factor * ${report_wall[$small]}")"
fi

{
  echo "# Benchmarks"
  echo
  echo "Written by \`bash benches/run.sh\` on $(date -u +%Y-%m-%d), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -m)."
  echo "Synthetic data from \`origintrace synth --seed 1\`. Wall clock and peak RSS from /usr/bin/time -v."
  echo
  echo "| shipments | statistics rows | check (1st / 2nd run) | build (snapshot) | report (CSV) | report (JSON) | report (HTML) | trace from snapshot (1st / 2nd run) | vet from snapshot (1st / 2nd run) | SQL twin (DuckDB; twin time / report time) |"
  echo "|---:|---:|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Targets (issue 17), on the largest size:"
  echo
  echo "| what | target | measured | met? |"
  echo "|---|---|---|---|"
  printf '%s\n' "${target_rows[@]}"
  echo
  echo "Where the CSV report's wall time goes (\`ORIGINTRACE_TIMINGS=1\`, seconds per phase):"
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
  done < <(phases "${sizes[-1]}")
} >"$out.new"
if [ -f "$out" ] && grep -q '^## Notes' "$out"; then
  echo >>"$out.new"
  sed -n '/^## Notes/,$p' "$out" >>"$out.new"
fi
mv "$out.new" "$out"
echo "wrote $out"
