#!/usr/bin/env bash
# Benchmark (issue 14, "Past one machine"): for each fleet size, in one run and under GNU time
# (wall, CPU = user + system, peak RSS):
#
#   - generate, first run, next to `cp -r` of the finished tree;
#   - generate with no change (rerun), next to reading every file of the tree once
#     (`tar cf - | cat > /dev/null` and `cat` of every file; GNU tar does not read the files'
#     data when its archive is /dev/null itself, so the archive goes through a pipe);
#   - lint --fleet of the whole fleet, and as 4 sequential shards (--shard K/4) plus the merge.
#
# Ratios are printed next to the figures: the machine is shared and noisy, so compare figures
# of the same run only.
#
#   bash bench/scale.sh [SITES...]        (default: 10000; e.g. `bash bench/scale.sh 10000 100000`)
#
# KEEP_WORK=1 keeps the scratch folder; EDGEFLEET_BIN=PATH measures that binary instead of
# building one. Needs GNU time (/usr/bin/time) and bc.
set -euo pipefail
ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
SIZES=("${@:-10000}")
cd "$ROOT"
# EDGEFLEET_BIN measures a binary built before (a long run then does not see later builds).
if [[ -n "${EDGEFLEET_BIN:-}" ]]; then
  BIN="$EDGEFLEET_BIN"
else
  cargo build --release --locked --quiet -p edgefleet
  BIN="$ROOT/target/release/edgefleet"
fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/edgefleet-scale-bench.XXXXXX")"
if [[ -z "${KEEP_WORK:-}" ]]; then trap 'rm -rf "$WORK"' EXIT; else echo "work folder: $WORK"; fi

# measure NAME COMMAND...: runs the command under GNU time; prints one line and records the
# wall time in WALL[NAME].
declare -A WALL BYSIZE
measure() {
  local name="$1"; shift
  local log="$WORK/time.log" code=0
  /usr/bin/time -f '%e %U %S %M' -o "$log" "$@" >/dev/null 2>"$WORK/stderr.log" || code=$?
  if [[ $code -gt 1 ]]; then
    echo "$name: exit $code" >&2; cat "$WORK/stderr.log" >&2; exit 1
  fi
  read -r wall user sys rss <"$log"
  WALL[$name]=$wall
  printf '  %-34s %8.2f s wall %8.2f s CPU %8.0f MiB peak RSS\n' \
    "$name" "$wall" "$(echo "$user + $sys" | bc)" "$(echo "$rss / 1024" | bc)"
}
ratio() { echo "scale=2; $1 / $2" | bc; }

echo "edgefleet scale benchmark; $(nproc) cores; $("$BIN" --version | head -1)"
for SITES in "${SIZES[@]}"; do
  DIR="$WORK/$SITES"
  mkdir -p "$DIR"
  "$BIN" inventory synth --sites "$SITES" --seed 1 --out "$DIR/inventory" >/dev/null
  echo
  echo "== $SITES synthetic sites"
  measure "generate (first run)" "$BIN" generate -q --inventory "$DIR/inventory" --out "$DIR/out"
  FILES=$(find "$DIR/out" -type f | wc -l)
  BYTES=$(du -sb "$DIR/out" | cut -f1)
  echo "  tree: $FILES files, $((BYTES / 1024 / 1024)) MiB"
  sync
  measure "cp -r of the tree" cp -r "$DIR/out" "$DIR/copy"
  rm -rf "$DIR/copy"
  measure "generate (rerun, no change)" "$BIN" generate -q --inventory "$DIR/inventory" --out "$DIR/out"
  measure "tar cf - of the tree | cat" sh -c "tar cf - -C '$DIR' out | cat >/dev/null"
  measure "cat of every file" sh -c "find '$DIR/out' -type f -print0 | xargs -0 cat >/dev/null"
  measure "lint --fleet (whole)" "$BIN" lint -q --fleet "$DIR/out" --inventory "$DIR/inventory" --format json
  SHARDS_WALL=0
  for K in 1 2 3 4; do
    measure "lint --fleet --shard $K/4" sh -c "'$BIN' lint -q --fleet '$DIR/out' --inventory '$DIR/inventory' --format json --shard $K/4 > '$DIR/lint-$K.json'"
    SHARDS_WALL=$(echo "$SHARDS_WALL + ${WALL["lint --fleet --shard $K/4"]}" | bc)
  done
  measure "merge of the 4 shards" "$BIN" merge "$DIR/lint-1.json" "$DIR/lint-2.json" "$DIR/lint-3.json" "$DIR/lint-4.json"
  echo "  ratios (same run):"
  echo "    generate first run / cp -r:          $(ratio "${WALL["generate (first run)"]}" "${WALL["cp -r of the tree"]}")"
  echo "    generate rerun / tar cf - | cat:     $(ratio "${WALL["generate (rerun, no change)"]}" "${WALL["tar cf - of the tree | cat"]}")"
  echo "    generate rerun / cat of every file:  $(ratio "${WALL["generate (rerun, no change)"]}" "${WALL["cat of every file"]}")"
  echo "    4 shards in sequence / whole lint:   $(ratio "$SHARDS_WALL" "${WALL["lint --fleet (whole)"]}")"
  echo "    slowest shard / whole lint:          $(ratio "$(printf '%s\n' "${WALL["lint --fleet --shard 1/4"]}" "${WALL["lint --fleet --shard 2/4"]}" "${WALL["lint --fleet --shard 3/4"]}" "${WALL["lint --fleet --shard 4/4"]}" | sort -n | tail -1)" "${WALL["lint --fleet (whole)"]}")"
  for name in "generate (first run)" "generate (rerun, no change)" "lint --fleet (whole)"; do
    BYSIZE["$SITES $name"]=${WALL[$name]}
  done
  BYSIZE["$SITES lint --fleet, 4 shards"]=$SHARDS_WALL
  rm -rf "$DIR"
done

# Linearity: each size's wall time against the first size's, next to the ratio of sites.
if [[ ${#SIZES[@]} -gt 1 ]]; then
  echo
  echo "== wall time against ${SIZES[0]} sites (same run)"
  for SITES in "${SIZES[@]:1}"; do
    for name in "generate (first run)" "generate (rerun, no change)" "lint --fleet (whole)" "lint --fleet, 4 shards"; do
      printf '  %-30s %s / %s sites: %6sx (sites %sx)\n' "$name" "$SITES" "${SIZES[0]}" \
        "$(ratio "${BYSIZE["$SITES $name"]}" "${BYSIZE["${SIZES[0]} $name"]}")" "$(ratio "$SITES" "${SIZES[0]}")"
    done
  done
fi
