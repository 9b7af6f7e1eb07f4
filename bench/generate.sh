#!/usr/bin/env bash
# Benchmark: generate a 10,000-site synthetic fleet, then generate again with no change.
# Prints wall time, files written and peak memory (RSS) of each run, the time of each phase
# (--timings), and for scale the time `cp -r` takes to copy the generated tree on the same
# filesystem. Needs GNU time (/usr/bin/time, Debian package `time`) and bc.
#
#   bash bench/generate.sh [SITES] [SEED]
#
# Targets (issue "Foundation"): first run <= 2 s and <= 500 MiB on 2 cores; the rerun writes 0 files.
set -euo pipefail
ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
SITES="${1:-10000}"
SEED="${2:-1}"
cd "$ROOT"
cargo build --release --locked --quiet -p edgefleet
BIN="$ROOT/target/release/edgefleet"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/edgefleet-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

"$BIN" inventory synth --sites "$SITES" --seed "$SEED" --out "$WORK/inventory" >/dev/null

run() {
  local label="$1"; shift
  local stats="$WORK/time.$label"
  /usr/bin/time -f '%e %M' -o "$stats" "$BIN" generate --inventory "$WORK/inventory" --out "$WORK/out" --timings "$@" \
    >"$WORK/stdout.$label" 2>"$WORK/stderr.$label"
  read -r wall rss_kb <"$stats"
  local written
  written=$(grep -oE '[0-9]+ files written' "$WORK/stdout.$label" | grep -oE '^[0-9]+')
  printf '%-22s wall %6.2f s   peak RSS %5d MiB   files written %6d\n' "$label" "$wall" "$((rss_kb / 1024))" "$written"
  sed 's/^/    /' "$WORK/stderr.$label"
}

echo "edgefleet generate, $SITES synthetic sites (seed $SEED), $(nproc) cores, output in $WORK ($(df -T "$WORK" | awk 'NR==2 {print $2}'))"
run "first run (empty dir)"
run "rerun (no change)"

# The filesystem's own cost of creating this tree, for scale: copy it with cp -r.
start=$(date +%s.%N)
cp -r "$WORK/out" "$WORK/out-copy"
end=$(date +%s.%N)
printf '%-22s wall %6.2f s   (%d files, %d folders)\n' "cp -r of the same tree" "$(echo "$end - $start" | bc)" \
  "$(find "$WORK/out" -type f | wc -l)" "$(find "$WORK/out" -type d | wc -l)"
