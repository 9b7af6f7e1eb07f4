#!/usr/bin/env bash
# Benchmark: render every site overlay of a synthetic fleet in-process, and `kubectl kustomize`
# on a sample of the same overlays in the same run; prints the per-overlay ratio.
#
#   bash bench/render.sh [SITES] [SAMPLE]
#
# With BASELINE_RENDER_FLEET=<another build's target/release/examples/render_fleet> (e.g. main's),
# the whole-fleet render is then repeated ROUNDS times (default 3), alternating that build, this
# one, and this one with provenance on (`--provenance`, as `lint --fleet` renders), each under
# /usr/bin/time: wall time, CPU time (user + system: less sensitive than wall time to other work
# on the machine), peak RSS, and the ratios of the medians.
#
# Targets (issue "In-process Kustomize renderer"): >= 100x faster per overlay than kubectl
# kustomize; the whole 10,000-site fleet in <= 3 s on 2 cores.
set -euo pipefail
ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
SITES="${1:-10000}"
SAMPLE="${2:-30}"
cd "$ROOT"
EDGEFLEET_ORACLES_ONLY=1 bash scripts/test.sh >/dev/null
cargo build --release --locked --quiet -p edgefleet
cargo build --release --locked --quiet -p kustomize --example render_fleet
WORK="$(mktemp -d "${TMPDIR:-/tmp}/edgefleet-render-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
"$ROOT/target/release/edgefleet" inventory synth --sites "$SITES" --seed 1 --out "$WORK/inventory" >/dev/null
"$ROOT/target/release/edgefleet" generate --inventory "$WORK/inventory" --out "$WORK/out" >/dev/null
echo "$SITES synthetic sites, $(nproc) cores"
"$ROOT/target/release/examples/render_fleet" "$WORK/out" "$ROOT/.venv-oracles/bin/kubectl" "$SAMPLE"

if [[ -n "${BASELINE_RENDER_FLEET:-}" ]]; then
  ROUNDS="${ROUNDS:-3}"
  echo "alternating runs, $ROUNDS rounds: baseline $BASELINE_RENDER_FLEET / this build / this build --provenance"
  : >"$WORK/rounds"
  for round in $(seq "$ROUNDS"); do
    for who in baseline this provenance; do
      case "$who" in
        baseline) cmd=("$BASELINE_RENDER_FLEET" "$WORK/out") ;;
        this) cmd=("$ROOT/target/release/examples/render_fleet" "$WORK/out") ;;
        provenance) cmd=("$ROOT/target/release/examples/render_fleet" "$WORK/out" --provenance) ;;
      esac
      /usr/bin/time -f '%e %M %U %S' -o "$WORK/time" "${cmd[@]}" >/dev/null
      read -r wall rss_kb user sys <"$WORK/time"
      cpu=$(echo "$user + $sys" | bc)
      printf '  round %d %-10s wall %6.2f s  CPU %6.2f s  peak RSS %4d MiB\n' "$round" "$who" "$wall" "$cpu" "$((rss_kb / 1024))"
      echo "$who $wall $rss_kb $cpu" >>"$WORK/rounds"
    done
  done
  python3 - "$WORK/rounds" <<'EOF'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    who, wall, rss, cpu = line.split()
    runs.setdefault(who, []).append((float(wall), int(rss), float(cpu)))
med = {w: tuple(statistics.median(x[i] for x in r) for i in range(3)) for w, r in runs.items()}
for who in ("this", "provenance"):
    print(f"  median {who} / baseline: wall {med[who][0] / med['baseline'][0]:.3f}x, "
          f"CPU {med[who][2] / med['baseline'][2]:.3f}x, peak RSS {med[who][1] / med['baseline'][1]:.3f}x "
          f"({med[who][0]:.2f} s vs {med['baseline'][0]:.2f} s; {med[who][1] // 1024} vs {med['baseline'][1] // 1024} MiB)")
EOF
fi
