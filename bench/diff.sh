#!/usr/bin/env bash
# Benchmark: `edgefleet diff` of a synthetic fleet after a one-template change, next to the work
# it replaces (planning the fleet twice: two `generate --check` runs on an up-to-date tree), in
# the same run, alternating, each under GNU time (wall, CPU = user + system, peak RSS).
#
#   bash bench/diff.sh [SITES] [WORKLOAD]
#
# The scratch repository holds the synthetic inventory, the catalogue and an edgefleet.toml;
# the change relabels WORKLOAD's base template (default telemetry-collector, which every site
# runs: the worst case, every site changes). ROUNDS (default 3) sets the number of rounds;
# KEEP_WORK=1 keeps the scratch folder. Needs git, GNU time (/usr/bin/time) and bc.
#
# Target (issue "Change impact before merge"): diff <= 1.5x the time of two `generate --check`.
set -euo pipefail
ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
SITES="${1:-10000}"
WORKLOAD="${2:-telemetry-collector}"
ROUNDS="${ROUNDS:-3}"
cd "$ROOT"
cargo build --release --locked --quiet -p edgefleet
BIN="$ROOT/target/release/edgefleet"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/edgefleet-diff-bench.XXXXXX")"
if [[ -z "${KEEP_WORK:-}" ]]; then trap 'rm -rf "$WORK"' EXIT; else echo "work folder: $WORK"; fi

REPO="$WORK/repo"
mkdir -p "$REPO"
"$BIN" inventory synth --sites "$SITES" --seed 1 --out "$REPO/inventory" >/dev/null
cp -r "$ROOT/templates" "$REPO/templates"
printf '[paths]\ninventory = "inventory"\ntemplates = "templates"\nout = "out"\n' >"$REPO/edgefleet.toml"
echo "out/" >"$REPO/.gitignore"
cd "$REPO"
git init -q
git -c user.name=bench -c user.email=bench@example.invalid add -A
git -c user.name=bench -c user.email=bench@example.invalid commit -qm fleet
sed -i 's/"app.kubernetes.io\/part-of": "edgefleet"/"app.kubernetes.io\/part-of": "edgefleet-edge"/' \
  "templates/$WORKLOAD/base.yaml.j2"
git -c user.name=bench -c user.email=bench@example.invalid commit -qam "relabel $WORKLOAD"
"$BIN" generate >/dev/null

echo "edgefleet diff, $SITES synthetic sites, change: $WORKLOAD's base template; $(nproc) cores, $ROUNDS rounds"
"$BIN" diff --base HEAD~1 --head HEAD | head -3 | sed 's/^/  /'

: >"$WORK/rounds"
for round in $(seq "$ROUNDS"); do
  /usr/bin/time -f '%e %M %U %S' -o "$WORK/time" "$BIN" diff --base HEAD~1 --head HEAD --format json >"$WORK/diff.json" 2>/dev/null
  read -r wall rss_kb user sys <"$WORK/time"
  cpu=$(echo "$user + $sys" | bc)
  printf '  round %d diff                wall %6.2f s  CPU %6.2f s  peak RSS %4d MiB\n' "$round" "$wall" "$cpu" "$((rss_kb / 1024))"
  echo "diff $wall $rss_kb $cpu" >>"$WORK/rounds"
  total_wall=0 total_cpu=0 max_rss=0
  for _ in 1 2; do
    /usr/bin/time -f '%e %M %U %S' -o "$WORK/time" "$BIN" generate --check >/dev/null 2>&1 || true
    read -r wall rss_kb user sys <"$WORK/time"
    total_wall=$(echo "$total_wall + $wall" | bc)
    total_cpu=$(echo "$total_cpu + $user + $sys" | bc)
    ((rss_kb > max_rss)) && max_rss=$rss_kb
  done
  printf '  round %d 2x generate --check wall %6.2f s  CPU %6.2f s  peak RSS %4d MiB\n' "$round" "$total_wall" "$total_cpu" "$((max_rss / 1024))"
  echo "generate2 $total_wall $max_rss $total_cpu" >>"$WORK/rounds"
done
python3 - "$WORK/rounds" "$WORK/diff.json" <<'EOF'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    who, wall, rss, cpu = line.split()
    runs.setdefault(who, []).append((float(wall), int(rss), float(cpu)))
med = {w: tuple(statistics.median(x[i] for x in r) for i in range(3)) for w, r in runs.items()}
d, g = med["diff"], med["generate2"]
report = json.load(open(sys.argv[2]))
print(f"  sites changed: {report['summary']['sites']['changed']}, objects changed: {report['summary']['objects']['changed']}")
print(f"  median diff / (2x generate --check): wall {d[0] / g[0]:.2f}x, CPU {d[2] / g[2]:.2f}x "
      f"({d[0]:.2f} s vs {g[0]:.2f} s); peak RSS {d[1] // 1024} MiB vs {g[1] // 1024} MiB (one generate)")
EOF
