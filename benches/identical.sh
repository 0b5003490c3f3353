#!/usr/bin/env bash
# Every format of every command, written to a folder, so that two builds can be compared byte for byte:
#
#   bash benches/identical.sh BIN OUT [DATASET_DIR...]
#   diff -r OUT_BEFORE OUT_AFTER
#
# Used to check a refactoring that must not change behaviour (docs/architecture.md). Without dataset
# directories it runs on the compiled-in sample, every fixture directory under tests/fixtures that loads, and
# `synth` 100k (made with BIN). For each: check (text, json), report (csv of each table, json, md, html),
# export (dot, graphml, json, and around one party), trace/vet/paths (text, json, html) for a handful of
# shipments and parties, build, and trace again from the snapshot. Stdout, stderr (less timing lines) and the
# exit code of each run are kept.
set -uo pipefail
bin=$(realpath "$1"); out=$2; shift 2
cd "$(dirname "$0")/.."
mkdir -p "$out"
# A fixed folder, not mktemp: outputs name their input files, and two runs must name the same ones.
work=${OT_IDENTICAL_DIR:-/tmp/origintrace-identical}
rm -rf "$work"; mkdir -p "$work"
dirs=("$@")
if [ ${#dirs[@]} -eq 0 ]; then
  dirs=(sample)
  while IFS= read -r d; do dirs+=("$d"); done < <(find tests/fixtures -name shipments.csv -printf '%h\n' | sort -u)
  "$bin" synth --shipments 100000 --seed 1 -o "$work/synth-100k" 2>/dev/null
  dirs+=("$work/synth-100k")
fi

run() { # name, then args
  local name=$1; shift
  "$bin" "$@" >"$dest/$name.out" 2>"$dest/$name.err"
  echo $? >"$dest/$name.rc"
}

for d in "${dirs[@]}"; do
  if [ "$d" = sample ]; then data=(); key=sample; else data=(--data "$d"); key=$(echo "${d#"$work"/}" | tr '/' '_'); fi
  dest="$out/$key"; mkdir -p "$dest"
  run check-text "${data[@]}" check
  run check-json "${data[@]}" check --format json
  for t in shipments importers exporters; do run "report-csv-$t" "${data[@]}" report --table "$t"; done
  run report-csv-flagged "${data[@]}" report --flagged-only --min-severity medium
  for f in json md html; do run "report-$f" "${data[@]}" report --format "$f"; done
  for f in dot graphml json; do run "export-$f" "${data[@]}" export --format "$f"; done
  [ "$(cat "$dest/report-csv-shipments.rc")" = 0 ] || continue
  mapfile -t ships < <(tail -n +2 "$dest/report-csv-shipments.out" | cut -d, -f1 | awk 'NR<=3 || NR%997==0' | head -8)
  mapfile -t parties < <( (tail -n +2 "$dest/report-csv-importers.out"; tail -n +2 "$dest/report-csv-exporters.out") | cut -d, -f1 | awk 'NR<=3 || NR%211==0' | head -8)
  for s in "${ships[@]}"; do
    for f in text json html; do run "trace-$s-$f" "${data[@]}" trace "$s" --format "$f"; done
  done
  for p in "${parties[@]}"; do
    for f in text json html; do run "vet-$p-$f" "${data[@]}" vet "$p" --format "$f"; done
    run "paths-$p" "${data[@]}" paths --from KP --to "$p"
    run "paths-$p-json" "${data[@]}" paths --from KP --to "$p" --format json --limit 7
    run "paths-$p-html" "${data[@]}" paths --from KP --to "$p" --format html
    run "export-around-$p" "${data[@]}" export --around "$p" --hops 2
  done
  run build "${data[@]}" build -o "$work/snap"
  cmp -s "$work/snap" "$dest/snapshot" 2>/dev/null || cp "$work/snap" "$dest/snapshot" 2>/dev/null
  for s in "${ships[@]:0:2}"; do run "snap-trace-$s" --data "$work/snap" trace "$s" --format json; done
  for p in "${parties[@]:0:2}"; do run "snap-vet-$p" --data "$work/snap" vet "$p" --format json; done
  rm -f "$work/snap"
done
echo "wrote $out: $(find "$out" -type f | wc -l) files"
