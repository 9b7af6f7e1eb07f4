#!/usr/bin/env bash
# Offline signature verification at scale: N distinct signed digests (default 10,000).
# Prints the in-process verification figures (cold: every digest verified; warm: from the
# per-run cache) and the wall time and peak RSS of `edgefleet lint` on one pod per digest.
# Wall times depend on what else runs: the CPU seconds are the figure to compare.
# Usage: bash bench/sign.sh [N]
set -euo pipefail
n="${1:-10000}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/edgefleet-sign-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$root"
cargo build --release --locked -q -p edgefleet-lints --example sign_bench
cargo build --release --locked -q -p edgefleet
target="${CARGO_TARGET_DIR:-$root/target}"
"$target/release/examples/sign_bench" "$n" "$work"
for i in 1 2 3; do
  /usr/bin/time -f "edgefleet lint, $n pods with distinct signed digests: wall %e s, cpu %U s user + %S s sys, peak RSS %M KiB" \
    "$target/release/edgefleet" --config "$work/edgefleet.toml" lint --format json "$work/manifests" \
    > "$work/report.json" || true
done
python3 - "$work/report.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
sig = [f for f in doc["findings"] if f["rule"] == "images/signature"]
print(f"images/signature findings: {len(sig)} (expected 0); objects linted: {doc['summary']['objects']}")
PY
