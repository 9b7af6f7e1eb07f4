#!/usr/bin/env bash
# Benchmark `edgefleet lint`, in one run:
#   1. the whole rendered SITES-site synthetic fleet (`lint --fleet`): wall time and peak RSS;
#   2. Checkov (best of 3) vs edgefleet (best of 5) per object on SAMPLE Deployments rendered
#      from that fleet (one file each, as Checkov reads folders);
#   3. the wall time to lint one file as the pre-commit hook does (`edgefleet lint FILE`), and the
#      whole `pre-commit run` around it for scale.
# Needs GNU time (/usr/bin/time), python3; installs the pinned oracles (Checkov, pre-commit) with
# `scripts/test.sh` if they are missing. Checkov runs offline (no API key, no downloads).
#
#   bash bench/lint.sh [SITES] [SAMPLE] [SEED]
#
# With BASELINE_EDGEFLEET=<another build's edgefleet binary> (e.g. main's), step 1 is then
# repeated ROUNDS times (default 3), alternating that binary and this one on the same tree (the
# baseline's own synthetic fleet, which both can read):
# wall time, CPU time (user + system: less sensitive than wall time to other work on the
# machine), peak RSS, and the ratios of the medians.
#
# Targets (issue "Lint engine"): fleet <= 5 s on 2 cores; >= 100x faster than Checkov per object;
# one file <= 50 ms.
set -euo pipefail
ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
SITES="${1:-10000}"
SAMPLE="${2:-200}"
SEED="${3:-1}"
cd "$ROOT"
cargo build --release --locked --quiet -p edgefleet
BIN="$ROOT/target/release/edgefleet"
EDGEFLEET_ORACLES_ONLY=1 bash scripts/test.sh >/dev/null
CHECKOV="$ROOT/.venv-oracles/bin/checkov"
PRE_COMMIT="$ROOT/.venv-oracles/bin/pre-commit"
PY="$ROOT/.venv-oracles/bin/python"
export BC_SKIP_MAPPING=TRUE CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false LOG_LEVEL=ERROR
unset BC_API_KEY
WORK="$(mktemp -d "${TMPDIR:-/tmp}/edgefleet-lint-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
# An empty config: the benchmark does not depend on the repository's edgefleet.toml.
: >"$WORK/edgefleet.toml"
cd "$WORK"

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }

echo "edgefleet lint benchmark: $SITES synthetic sites (seed $SEED), sample of $SAMPLE Deployments, $(nproc) cores, work folder $WORK"
"$BIN" inventory synth --sites "$SITES" --seed "$SEED" --out "$WORK/inventory" >/dev/null
"$BIN" generate --inventory "$WORK/inventory" --out "$WORK/out" >/dev/null

# 1. The whole fleet.
if "$BIN" lint --help | grep -q -- '--fleet'; then
  set +e
  /usr/bin/time -f '%e %M' -o "$WORK/time.fleet" \
    "$BIN" lint --fleet "$WORK/out" --inventory "$WORK/inventory" --format json >"$WORK/fleet.json" 2>"$WORK/fleet.err"
  code=$?
  set -e
  read -r wall rss_kb <"$WORK/time.fleet"
  summary=$("$PY" -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; print(s["files"], s["objects"], s["errors"]+s["warnings"]+s["notes"])' "$WORK/fleet.json" 2>/dev/null || echo "? ? ?")
  read -r files objects findings <<<"$summary"
  printf '1. lint --fleet, %s sites: wall %.2f s, peak RSS %d MiB, exit %d (%s source files, %s objects, %s findings)\n' \
    "$SITES" "$wall" "$((rss_kb / 1024))" "$code" "$files" "$objects" "$findings"
  if [[ $code -ge 2 ]]; then sed 's/^/   stderr: /' "$WORK/fleet.err" | head -5; fi
else
  echo "1. lint --fleet: SKIPPED (this edgefleet has no --fleet yet)"
fi

if [[ -n "${BASELINE_EDGEFLEET:-}" ]]; then
  ROUNDS="${ROUNDS:-3}"
  # The tree both binaries lint is the baseline's own synthetic fleet: an older build may not read
  # what newer inventories declare (platforms, say), and a newer build reads older trees.
  "$BASELINE_EDGEFLEET" inventory synth --sites "$SITES" --seed "$SEED" --out "$WORK/base-inventory" >/dev/null
  "$BASELINE_EDGEFLEET" generate --inventory "$WORK/base-inventory" --out "$WORK/base-out" >/dev/null
  echo "   alternating runs, $ROUNDS rounds on the baseline's $SITES-site tree: baseline $BASELINE_EDGEFLEET / this build"
  : >"$WORK/rounds"
  for round in $(seq "$ROUNDS"); do
    for who in baseline this; do
      bin="$BIN"
      [[ "$who" == baseline ]] && bin="$BASELINE_EDGEFLEET"
      set +e
      /usr/bin/time -f '%e %M %U %S' -o "$WORK/time.round" \
        "$bin" lint --fleet "$WORK/base-out" --inventory "$WORK/base-inventory" --format json >"$WORK/round.json" 2>"$WORK/round.err"
      code=$?
      set -e
      # GNU time writes "Command exited with non-zero status N" above the figures.
      read -r wall rss_kb user sys < <(tail -n 1 "$WORK/time.round")
      cpu=$(echo "$user + $sys" | bc)
      printf '   round %d %-8s wall %6.2f s  CPU %6.2f s  peak RSS %4d MiB  exit %d\n' "$round" "$who" "$wall" "$cpu" "$((rss_kb / 1024))" "$code"
      if [[ $code -ge 2 ]]; then sed 's/^/     stderr: /' "$WORK/round.err" | head -3 || true; fi
      echo "$who $wall $rss_kb $cpu" >>"$WORK/rounds"
    done
  done
  "$PY" - "$WORK/rounds" <<'EOF'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    who, wall, rss, cpu = line.split()
    runs.setdefault(who, []).append((float(wall), int(rss), float(cpu)))
med = {w: tuple(statistics.median(x[i] for x in r) for i in range(3)) for w, r in runs.items()}
print(f"   median this / baseline: wall {med['this'][0] / med['baseline'][0]:.3f}x, "
      f"CPU {med['this'][2] / med['baseline'][2]:.3f}x, peak RSS {med['this'][1] / med['baseline'][1]:.3f}x "
      f"({med['this'][0]:.2f} s vs {med['baseline'][0]:.2f} s; {med['this'][1] // 1024} vs {med['baseline'][1] // 1024} MiB)")
EOF
fi

# 2. A sample of rendered Deployments, one per file, uniquely named.
mkdir -p "$WORK/sample" "$WORK/one"
find "$WORK/out/sites" -mindepth 3 -maxdepth 3 -type d | sort | sed -n "1,$((SAMPLE * 2))p" >"$WORK/overlays"
xargs -a "$WORK/overlays" "$BIN" render >"$WORK/rendered.yaml"
"$PY" - "$WORK/rendered.yaml" "$WORK/sample" "$SAMPLE" <<'EOF'
import sys, yaml
src, out, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
n = 0
for doc in yaml.safe_load_all(open(src)):
    if not isinstance(doc, dict) or doc.get("kind") != "Deployment":
        continue
    n += 1
    doc["metadata"]["name"] = f'{doc["metadata"]["name"]}-{n:04d}'
    with open(f"{out}/deployment-{n:04d}.yaml", "w") as f:
        yaml.safe_dump(doc, f, sort_keys=False)
    if n == want:
        break
if n < want:
    sys.exit(f"only {n} Deployments rendered from the sample overlays")
EOF
cp "$WORK/sample/deployment-0001.yaml" "$WORK/one/"

run_checkov() { "$CHECKOV" -d "$1" --framework kubernetes -o json --quiet --compact --skip-download >/dev/null 2>&1 || true; }
best_of() { # best_of N command...: the fastest wall time of N runs, in seconds
  local n="$1" best="" t0 t1 d; shift
  for _ in $(seq "$n"); do
    t0=$(now); "$@" >/dev/null 2>&1 || true; t1=$(now)
    d=$(secs "$t0" "$t1")
    if [[ -z "$best" ]] || (($(echo "$d < $best" | bc))); then best="$d"; fi
  done
  echo "$best"
}
ck_one=$(best_of 3 run_checkov "$WORK/one")
ck_all=$(best_of 3 run_checkov "$WORK/sample")
ef_one=$(best_of 5 "$BIN" lint --format json "$WORK/one")
ef_all=$(best_of 5 "$BIN" lint --format json "$WORK/sample")
"$PY" - "$SAMPLE" "$ck_one" "$ck_all" "$ef_one" "$ef_all" <<'EOF'
import sys
n = int(sys.argv[1]); ck1, ckn, ef1, efn = map(float, sys.argv[2:])
ck_per, ef_per = ckn / n * 1000, efn / n * 1000
ck_marg, ef_marg = (ckn - ck1) / (n - 1) * 1000, max(efn - ef1, 0) / (n - 1) * 1000
print(f"2. {n} Deployments: Checkov {ckn:.2f} s ({ck_per:.1f} ms/object; 1 object: {ck1:.2f} s, "
      f"so {ck_marg:.1f} ms per extra object)")
print(f"   edgefleet {efn*1000:.1f} ms ({ef_per:.3f} ms/object; 1 object: {ef1*1000:.1f} ms, "
      f"so {ef_marg:.3f} ms per extra object)")
ratio = lambda a, b: f"{a / b:,.0f}x" if b > 0 else "n/a (below timer resolution)"
print(f"   edgefleet faster per object: {ratio(ck_per, ef_per)} (wall / objects), "
      f"{ratio(ck_marg, ef_marg)} (per extra object)")
EOF

# 3. One file as the pre-commit hook lints it.
times=()
for _ in $(seq 20); do
  t0=$(now); "$BIN" lint "$WORK/one/deployment-0001.yaml" >/dev/null 2>&1 || true; t1=$(now)
  times+=("$(secs "$t0" "$t1")")
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
printf '3. one file (edgefleet lint FILE, 20 runs): min %.1f ms, median %.1f ms, max %.1f ms\n' \
  "$(echo "$(sed -n 1p <<<"$sorted") * 1000" | bc)" "$(echo "$(sed -n 10p <<<"$sorted") * 1000" | bc)" \
  "$(echo "$(sed -n 20p <<<"$sorted") * 1000" | bc)"

# ... and the whole `pre-commit run` on a scratch repository, for scale.
mkdir -p "$WORK/repo" "$WORK/pc-home"
(
  cd "$WORK/repo"
  export PRE_COMMIT_HOME="$WORK/pc-home" GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
  git init --quiet .
  printf 'repos:\n  - repo: local\n    hooks:\n      - id: edgefleet-lint\n        name: edgefleet lint\n        entry: %s lint\n        language: system\n        files: "\\\\.(ya?ml)$"\n        require_serial: true\n' "$BIN" >.pre-commit-config.yaml
  cp "$WORK/one/deployment-0001.yaml" .
  git add .
  "$PRE_COMMIT" run edgefleet-lint --files deployment-0001.yaml >/dev/null 2>&1 || true # warm-up
  t=$(best_of 5 "$PRE_COMMIT" run edgefleet-lint --files deployment-0001.yaml)
  printf '   whole `pre-commit run edgefleet-lint --files FILE` (best of 5): %.0f ms\n' "$(echo "$t * 1000" | bc)"
)
