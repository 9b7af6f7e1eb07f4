#!/usr/bin/env bash
# Benchmark (issue 14, "Past one machine"): for each fleet size, in one run and under GNU time
# (wall, CPU = user + system, peak RSS):
#
#   - generate, first run, next to `cp -r` of the finished tree (ROUNDS rounds, alternately,
#     default 3; the median of the rounds' ratios is reported);
#   - generate with no change (rerun), next to reading every file of the tree once (ROUNDS rounds)
#     (`tar cf - | cat > /dev/null` and `cat` of every file; GNU tar does not read the files'
#     data when its archive is /dev/null itself, so the archive goes through a pipe);
#   - generate after an inventory file was touched (same bytes, ROUNDS rounds): the inputs look
#     changed, so every site's fingerprint is taken again (the per-site path of the rerun cache);
#   - lint --fleet of the whole fleet, and as 4 sequential shards (--shard K/4; ROUNDS rounds
#     each, the median round is reported) plus the merge.
#
# Ratios are printed next to the figures: the machine is shared and noisy, so compare figures
# of the same run only. With several sizes, each round measures every size in turn (10,000
# sites, then 100,000, then the next round), so the sizes are compared round by round: a
# machine that gets slower or faster during a long run (other sessions' load comes and goes)
# shifts both sides of a round's ratio, not only the size measured last.
#
#   bash bench/scale.sh [SITES...]        (default: 10000; e.g. `bash bench/scale.sh 10000 100000`)
#
# KEEP_WORK=1 keeps the scratch folder; EDGEFLEET_BIN=PATH measures that binary instead of
# building one. Needs GNU time (/usr/bin/time) and bc.
#
# Deleting a big tree leaves ext4 slow to create files for a while (each new inode first skips
# the recently deleted ones, reading their inode blocks: `cp -r` of 10,000 sites' tree went from
# 3 s to 40 s right after deleting one), so the script waits SETTLE seconds (default 30) after
# each deletion, and measured runs write into fresh folders, never into a just-emptied one.
# On tmpfs (TMPDIR=/dev/shm, SETTLE=0), where neither tool pays for a disk, mind its inode
# limit: a 100,000-site tree takes about 0.9 million inodes, and a round holds three trees
# (the first, the round's and its copy; with SETTLE=0 each round's are deleted after it, on a
# disk they stay until the rounds end; a tmpfs of its own has room: as root,
# `mount -t tmpfs -o size=16G,nr_inodes=8M tmpfs /mnt/bench`, then TMPDIR=/mnt/bench).
set -euo pipefail
ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
SIZES=("${@:-10000}")
ROUNDS="${ROUNDS:-3}"
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
declare -A WALL CPU
measure() {
  local name="$1"; shift
  local log="$WORK/time.log" code=0 start end
  # Wall time from the shell's microsecond clock (GNU time's is in hundredths: a no-change
  # rerun of 10,000 sites takes less than a tenth of a second).
  start=$EPOCHREALTIME
  /usr/bin/time -f '%e %U %S %M' -o "$log" "$@" >/dev/null 2>"$WORK/stderr.log" || code=$?
  end=$EPOCHREALTIME
  # Only lint and merge may exit 1 (findings); anything else failing stops the benchmark
  # (`cp -r` into a tmpfs out of inodes, say) rather than printing a figure of a failed run.
  if [[ $code -gt 1 || ( $code -eq 1 && $name != lint* && $name != merge* ) ]]; then
    echo "$name: exit $code" >&2; cat "$WORK/stderr.log" >&2; exit 1
  fi
  # GNU time puts "Command exited with non-zero status N" before the figures.
  read -r _ user sys rss < <(tail -n 1 "$log")
  wall=$(echo "scale=3; ($end - $start) / 1" | bc)
  WALL[$name]=$wall
  CPU[$name]=$(echo "$user + $sys" | bc)
  printf '  %-34s %8.3f s wall %8.2f s CPU %8.0f MiB peak RSS\n' \
    "$name" "$wall" "$(echo "$user + $sys" | bc)" "$(echo "$rss / 1024" | bc)"
}
# ratio A B: A / B to three decimals ("n/a" when B is zero: GNU time's CPU of a tiny run).
ratio() { if [[ $(echo "$2 == 0" | bc) == 1 ]]; then echo "n/a"; else echo "scale=3; $1 / $2" | bc; fi; }
# settle: after deleting a big tree, let the file system forget it (see the top of the file).
settle() { sync; sleep "${SETTLE:-30}"; }
# median X...: the middle value (the lower middle of an even count).
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }

echo "edgefleet scale benchmark; $(nproc) cores; $("$BIN" --version | head -1)"
for SITES in "${SIZES[@]}"; do
  mkdir -p "$WORK/$SITES"
  "$BIN" inventory synth --sites "$SITES" --seed 1 --out "$WORK/$SITES/inventory" >/dev/null
done
# generate records its inputs for reruns only once they are 3 s old (docs/generated-tree.md,
# "Reruns"); a user's inventory is older than that, one synthesized a moment ago is not.
sleep 3.5
# Per size: the rounds' figures, space-separated (ROUNDS values each).
declare -A GEN_RATIOS RERUN_RATIOS CAT_RATIOS TOUCH_RATIOS GEN_WALLS GEN_CPUS RERUN_WALLS \
  RERUN_CPUS TOUCH_WALLS TOUCH_CPUS LINT_WALLS LINT_CPUS SHARDS_WALLS SHARDS_CPUS SLOWEST TREE
# step SITES NAME COMMAND...: measure, with the fleet size in the name.
step() { local sites="$1" name="$2"; shift 2; measure "$sites: $name" "$@"; }
w() { echo "${WALL["$1: $2"]}"; }
c() { echo "${CPU["$1: $2"]}"; }

# Generate's first run and `cp -r` of its tree, alternately, ROUNDS times (each into a fresh
# folder): both write the same number of files and folders, and the file system's state
# (ext4 after many deletions, other sessions' writes) swings between rounds, so each round's
# ratio compares two neighbours and the median ratio is reported.
echo
echo "== generate, first run, next to cp -r of the tree"
for R in $(seq 1 "$ROUNDS"); do
  for SITES in "${SIZES[@]}"; do
    DIR="$WORK/$SITES"
    step "$SITES" "generate (first run) #$R" "$BIN" generate -q --inventory "$DIR/inventory" --out "$DIR/out$R"
    if [[ $R == 1 ]]; then
      FILES=$(find "$DIR/out1" -type f | wc -l)
      BYTES=$(du -sb "$DIR/out1" | cut -f1)
      TREE[$SITES]="$FILES files, $((BYTES / 1024 / 1024)) MiB"
      echo "  $SITES: tree: ${TREE[$SITES]}"
    fi
    sync
    step "$SITES" "cp -r of the tree #$R" cp -r "$DIR/out1" "$DIR/copy$R"
    sync
    GEN_RATIOS[$SITES]+=" $(ratio "$(w "$SITES" "generate (first run) #$R")" "$(w "$SITES" "cp -r of the tree #$R")")"
    GEN_WALLS[$SITES]+=" $(w "$SITES" "generate (first run) #$R")"
    GEN_CPUS[$SITES]+=" $(c "$SITES" "generate (first run) #$R")"
    # On tmpfs (SETTLE=0) each round starts from the same state: only the first tree (cp's
    # source, the reruns' folder) is kept. Trees left from earlier rounds make each round slower
    # than the one before for both tools there (at 100,000 sites, 0.9 million inodes more per
    # tree), and the wall times across fleet sizes would compare different states of the file
    # system. On a disk the trees stay until the rounds end: deleting one slows the next
    # creations for longer than SETTLE (ext4: a round right after a deletion took 3-6 times
    # as long, for both tools).
    if [[ ${SETTLE:-30} == 0 ]]; then
      rm -rf "$DIR/copy$R"
      if [[ $R != 1 ]]; then rm -rf "$DIR/out$R"; fi
    fi
  done
done
for SITES in "${SIZES[@]}"; do
  for R in $(seq 2 "$ROUNDS"); do rm -rf "$WORK/$SITES/out$R"; done
  rm -rf "$WORK/$SITES"/copy*
done
settle

echo
echo "== generate, no change, next to reading the tree"
for R in $(seq 1 "$ROUNDS"); do
  for SITES in "${SIZES[@]}"; do
    DIR="$WORK/$SITES"
    step "$SITES" "generate (rerun, no change) #$R" "$BIN" generate -q --inventory "$DIR/inventory" --out "$DIR/out1"
    step "$SITES" "tar cf - of the tree | cat #$R" sh -c "tar cf - -C '$DIR' out1 | cat >/dev/null"
    step "$SITES" "cat of every file #$R" sh -c "find '$DIR/out1' -type f -print0 | xargs -0 cat >/dev/null"
    RERUN_RATIOS[$SITES]+=" $(ratio "$(w "$SITES" "generate (rerun, no change) #$R")" "$(w "$SITES" "tar cf - of the tree | cat #$R")")"
    CAT_RATIOS[$SITES]+=" $(ratio "$(w "$SITES" "generate (rerun, no change) #$R")" "$(w "$SITES" "cat of every file #$R")")"
    RERUN_WALLS[$SITES]+=" $(w "$SITES" "generate (rerun, no change) #$R")"
    RERUN_CPUS[$SITES]+=" $(c "$SITES" "generate (rerun, no change) #$R")"
  done
done

# After the no-change rounds (a touched input is not recorded for 3 s, so the rerun after it
# would take this path too): the inputs look changed, so every site's fingerprint is taken.
echo
echo "== generate after an input was touched"
for R in $(seq 1 "$ROUNDS"); do
  for SITES in "${SIZES[@]}"; do
    DIR="$WORK/$SITES"
    touch "$(find "$DIR/inventory" -type f -name '*.yaml' | sort | head -1)"
    step "$SITES" "generate (rerun, input touched) #$R" "$BIN" generate -q --inventory "$DIR/inventory" --out "$DIR/out1"
    TOUCH_RATIOS[$SITES]+=" $(ratio "$(w "$SITES" "generate (rerun, input touched) #$R")" "$(w "$SITES" "tar cf - of the tree | cat #$R")")"
    TOUCH_WALLS[$SITES]+=" $(w "$SITES" "generate (rerun, input touched) #$R")"
    TOUCH_CPUS[$SITES]+=" $(c "$SITES" "generate (rerun, input touched) #$R")"
  done
done
for SITES in "${SIZES[@]}"; do mv "$WORK/$SITES/out1" "$WORK/$SITES/out"; done

echo
echo "== lint --fleet, whole"
for R in $(seq 1 "$ROUNDS"); do
  for SITES in "${SIZES[@]}"; do
    DIR="$WORK/$SITES"
    step "$SITES" "lint --fleet (whole) #$R" "$BIN" lint -q --fleet "$DIR/out" --inventory "$DIR/inventory" --format json
    LINT_WALLS[$SITES]+=" $(w "$SITES" "lint --fleet (whole) #$R")"
    LINT_CPUS[$SITES]+=" $(c "$SITES" "lint --fleet (whole) #$R")"
  done
done

# The 4 shards in sequence, ROUNDS times: each round's sum, and the median round's.
echo
echo "== lint --fleet as 4 shards in sequence"
for R in $(seq 1 "$ROUNDS"); do
  for SITES in "${SIZES[@]}"; do
    DIR="$WORK/$SITES"
    SUM=0 SUMCPU=0 MAX=0
    for K in 1 2 3 4; do
      step "$SITES" "lint --fleet --shard $K/4 #$R" sh -c "'$BIN' lint -q --fleet '$DIR/out' --inventory '$DIR/inventory' --format json --shard $K/4 > '$DIR/lint-$K.json'"
      SUM=$(echo "$SUM + $(w "$SITES" "lint --fleet --shard $K/4 #$R")" | bc)
      SUMCPU=$(echo "$SUMCPU + $(c "$SITES" "lint --fleet --shard $K/4 #$R")" | bc)
      MAX=$(printf '%s\n' "$MAX" "$(w "$SITES" "lint --fleet --shard $K/4 #$R")" | sort -n | tail -1)
    done
    SHARDS_WALLS[$SITES]+=" $SUM" SHARDS_CPUS[$SITES]+=" $SUMCPU" SLOWEST[$SITES]+=" $MAX"
  done
done
for SITES in "${SIZES[@]}"; do
  DIR="$WORK/$SITES"
  step "$SITES" "merge of the 4 shards" "$BIN" merge "$DIR/lint-1.json" "$DIR/lint-2.json" "$DIR/lint-3.json" "$DIR/lint-4.json"
done

# med LIST: the median of a space-separated list.
med() { # shellcheck disable=SC2086
  median $1; }
for SITES in "${SIZES[@]}"; do
  LINT_WALL=$(med "${LINT_WALLS[$SITES]}")
  echo
  echo "== $SITES synthetic sites (${TREE[$SITES]}): ratios (same run)"
  echo "    generate first run / cp -r:          $(med "${GEN_RATIOS[$SITES]}")  (median of rounds:${GEN_RATIOS[$SITES]})"
  echo "    generate rerun / tar cf - | cat:     $(med "${RERUN_RATIOS[$SITES]}")  (median of rounds:${RERUN_RATIOS[$SITES]})"
  echo "    generate rerun / cat of every file:  $(med "${CAT_RATIOS[$SITES]}")  (median of rounds:${CAT_RATIOS[$SITES]})"
  echo "    rerun, input touched / tar | cat:    $(med "${TOUCH_RATIOS[$SITES]}")  (median of rounds:${TOUCH_RATIOS[$SITES]})"
  echo "    4 shards in sequence / whole lint:   $(ratio "$(med "${SHARDS_WALLS[$SITES]}")" "$LINT_WALL")  (medians; rounds' sums:${SHARDS_WALLS[$SITES]})"
  echo "    slowest shard / whole lint:          $(ratio "$(med "${SLOWEST[$SITES]}")" "$LINT_WALL")  (median of rounds' slowest)"
done

# Linearity: each size's wall time against the first size's, round by round (the rounds of
# both sizes ran next to each other), next to the ratio of sites; the median of the rounds'
# ratios is the figure, the ratio of the medians and of CPU time are printed beside it.
# by_round A B: the ratios of the i-th values of two space-separated lists.
by_round() {
  local -a a b; read -r -a a <<<"$1"; read -r -a b <<<"$2"
  local i out=""
  for i in "${!a[@]}"; do out+=" $(ratio "${a[$i]}" "${b[$i]}")"; done
  echo "$out"
}
# times R: `R` followed by x (n/a stays as it is).
times() { if [[ $1 == n/a ]]; then echo "$1"; else echo "${1}x"; fi; }
if [[ ${#SIZES[@]} -gt 1 ]]; then
  FIRST=${SIZES[0]}
  echo
  echo "== wall time against $FIRST sites (same run, round by round)"
  for SITES in "${SIZES[@]:1}"; do
    for name in GEN RERUN TOUCH LINT SHARDS; do
      case $name in
        GEN) label="generate (first run)" ;;
        RERUN) label="generate (rerun, no change)" ;;
        TOUCH) label="generate (rerun, input touched)" ;;
        LINT) label="lint --fleet (whole)" ;;
        SHARDS) label="lint --fleet, 4 shards" ;;
      esac
      walls="${name}_WALLS[$SITES]" walls0="${name}_WALLS[$FIRST]"
      cpus="${name}_CPUS[$SITES]" cpus0="${name}_CPUS[$FIRST]"
      rounds=$(by_round "${!walls}" "${!walls0}")
      printf '  %-32s %s / %s sites: %6s (sites %sx; rounds:%s; medians %s; CPU %s)\n' \
        "$label" "$SITES" "$FIRST" "$(times "$(med "$rounds")")" "$(ratio "$SITES" "$FIRST")" \
        "$rounds" "$(times "$(ratio "$(med "${!walls}")" "$(med "${!walls0}")")")" \
        "$(times "$(ratio "$(med "${!cpus}")" "$(med "${!cpus0}")")")"
    done
  done
fi
