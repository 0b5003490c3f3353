#!/usr/bin/env bash
# Fuzz every target for SECONDS each (default 600) on the stable toolchain, one after the other, and append
# the totals to fuzz/log.tsv (target, seconds, runs, result). Crashes land in fuzz/artifacts/TARGET/.
# Usage: bash fuzz/run.sh [SECONDS] [TARGET...]
set -uo pipefail
cd "$(dirname "$0")"
secs=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
cargo fuzz build -s none >/dev/null 2>&1 || { echo "build failed"; exit 2; }
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  log=$(mktemp)
  nice -n 10 cargo fuzz run -s none "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=4096 -max_len=65536 >"$log" 2>&1
  rc=$?
  runs=$(grep -oE 'Done [0-9]+ runs' "$log" | grep -oE '[0-9]+' | tail -1)
  result=$([ $rc -eq 0 ] && echo clean || echo "CRASH (see fuzz/artifacts/$t)")
  printf '%s\t%s\t%s\t%s\n' "$t" "$secs" "${runs:-?}" "$result" | tee -a log.tsv
  tail -20 "$log" > "last-$t.log"
  rm -f "$log"
done
