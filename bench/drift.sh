#!/usr/bin/env bash
# Benchmark: reading a synthetic fleet's live state from its clusters, next to fetching the same
# objects with raw HTTP (curl) and with `kubectl get`, each under GNU time (wall, peak RSS).
#
#   bash bench/drift.sh [SITES]
#
# The clusters are the loopback API server (edgefleet-test-apiserver): one TLS port, one
# kubeconfig context per site (`edge-<site>`, each with its own server URL, so discovery is per
# site as in a real fleet), every site serving its rendered objects as a real API server does
# after the applier applied them (defaults, status, managed fields, owned Pods and ReplicaSets).
#
#  1. `edgefleet drift --jobs $JOBS --format json` over the whole fleet (a build without the
#     `drift` command falls back to the same work through drift/examples/read_fleet.rs: render
#     every site, then $JOBS workers calling the cluster source); steps 3 and 4 use the same
#     reader;
#  2. raw HTTP: exactly the requests the source sent for each site (discovery, a GET per desired
#     object, a LIST by the site label per listable kind), replayed with curl (one process and
#     one kept-alive connection per site, $JOBS sites at a time), for the whole fleet;
#  3. kubectl: for $SAMPLE sites, `kubectl get <kind> <name> -n <ns> -o json` per object and
#     `kubectl get <kind> -A -l edgefleet.io/site=<id> -o json` per listable kind: the per-site
#     ratio;
#  4. one site whose server never answers (accepts, then holds the connection) with
#     `--timeout $HANG_TIMEOUT`: the fleet must take no longer than without it plus that timeout.
#
# Environment: JOBS (32), SAMPLE (5), HANG_TIMEOUT (5), KEEP_WORK=1 keeps the scratch folder.
# Needs curl, GNU time (/usr/bin/time), python3 and the pinned kubectl (bash scripts/test.sh
# installs it into .venv-oracles; EDGEFLEET_KUBECTL overrides).
#
# Target (issue "Drift"): the whole fleet in under 10x the time of fetching those objects once
# with raw HTTP; one unreachable site costs no more than its timeout.
set -euo pipefail
ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
SITES="${1:-1000}"
JOBS="${JOBS:-32}"
SAMPLE="${SAMPLE:-5}"
HANG_TIMEOUT="${HANG_TIMEOUT:-5}"
KUBECTL="${EDGEFLEET_KUBECTL:-$ROOT/.venv-oracles/bin/kubectl}"
TEMPLATE='edge-{site}'
cd "$ROOT"
[[ -x "$KUBECTL" ]] || { echo "bench/drift.sh: no kubectl at $KUBECTL (run bash scripts/test.sh once)" >&2; exit 2; }
cargo build --release --locked --quiet -p edgefleet -p edgefleet-test-apiserver
cargo build --release --locked --quiet -p edgefleet-drift --example read_fleet
BIN="$ROOT/target/release/edgefleet"
SERVER="$ROOT/target/release/edgefleet-test-apiserver"
READER="$ROOT/target/release/examples/read_fleet"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/edgefleet-drift-bench.XXXXXX")"
SERVER_PID=
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; fi
  if [[ -z "${KEEP_WORK:-}" ]]; then rm -rf "$WORK"; else echo "work folder: $WORK"; fi
}
trap cleanup EXIT

"$BIN" inventory synth --sites "$SITES" --seed 1 --out "$WORK/inventory" >/dev/null
"$BIN" generate --inventory "$WORK/inventory" --templates "$ROOT/templates" --out "$WORK/out" >/dev/null

start_server() {
  "$SERVER" --fleet "$WORK/out" --kubeconfig-out "$WORK/kubeconfig" --ca-out "$WORK/ca.pem" \
    --context-template "$TEMPLATE" --record "$@" >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  until grep -q '^listening on' "$WORK/server.log" 2>/dev/null; do
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 2; }
    sleep 0.2
  done
  URL="$(sed -n 's/^listening on //p' "$WORK/server.log")"
}
stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}
# wall seconds and peak RSS (KiB) of a GNU `time -v` report
timing() {
  python3 - "$1" <<'EOF'
import sys
wall = rss = 0
for line in open(sys.argv[1]):
    line = line.strip()
    if line.startswith("Elapsed (wall clock)"):
        parts = [float(x) for x in line.rsplit(": ", 1)[1].split(":")]
        for p in parts:
            wall = wall * 60 + p
    elif line.startswith("Maximum resident set size"):
        rss = int(line.rsplit(": ", 1)[1])
print(f"{wall:.2f} {rss}")
EOF
}

start_server
echo "edgefleet drift benchmark: $(head -1 "$WORK/server.log" | sed 's/ on .*//'), $(nproc) cores, --jobs $JOBS"

# 1. the fleet, as edgefleet drift reads it
if "$BIN" drift --help >/dev/null 2>&1; then
  WHAT="edgefleet drift"
  READ=("$BIN" drift --fleet "$WORK/out" --kubeconfig "$WORK/kubeconfig" --context-template "$TEMPLATE"
    --format json)
else
  WHAT="read_fleet (render + cluster source; no \`edgefleet drift\` in this build)"
  READ=("$READER" --fleet "$WORK/out" --kubeconfig "$WORK/kubeconfig" --context-template "$TEMPLATE")
fi
# What a run found: `edgefleet drift`'s JSON summary (and its unreachable sites), or read_fleet's lines.
found() {
  if [[ "$WHAT" == "edgefleet drift" ]]; then
    python3 - "$1" <<'PY' || true
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
print(f"sites {s['sites']}: in-sync {s['in-sync']}, drifted {s['drifted']}, unreachable {s['unreachable']}, "
      f"unauthorized {s['unauthorized']}; objects {s['objects']}")
for site in d["sites"]:
    if site["status"] in ("unreachable", "unauthorized"):
        print(f"{site['site']}: {site['status']}: {site.get('error')}")
PY
  else
    grep -E '^(sites|render)|unreachable' "$1" || true
  fi
}
/usr/bin/time -v -o "$WORK/time.drift" "${READ[@]}" --jobs "$JOBS" >"$WORK/drift.out" 2>"$WORK/drift.err" || true
read -r drift_wall drift_rss < <(timing "$WORK/time.drift")
printf '  %-58s wall %7.2f s  peak RSS %5d MiB\n' "$WHAT, $SITES sites" "$drift_wall" "$((drift_rss / 1024))"
found "$WORK/drift.out" | sed 's/^/      /'

# The requests the source sent, per site: curl configs (raw HTTP) and kubectl commands.
curl -s --cacert "$WORK/ca.pem" "$URL/_edgefleet/requests" >"$WORK/requests.json"
mkdir -p "$WORK/curl" "$WORK/kubectl"
python3 - "$WORK" "$URL" "$SAMPLE" >/dev/null <<'EOF'
import json, sys, urllib.parse
work, url, sample = sys.argv[1], sys.argv[2], int(sys.argv[3])
config = json.load(open(f"{work}/kubeconfig"))
users = {u["name"]: u["user"]["token"] for u in config["users"]}
servers = {c["name"]: c["cluster"]["server"] for c in config["clusters"]}
site_of_context = {}
for c in config["contexts"]:
    site_of_context[c["name"]] = c["name"][len("edge-"):]
by_site = {}
for r in json.load(open(f"{work}/requests.json"))["requests"]:
    if r["site"]:
        by_site.setdefault(r["site"], []).append(r)
sites = sorted(by_site)
total = 0
for site in sites:
    ctx = f"edge-{site}"
    with open(f"{work}/curl/{site}.cfg", "w") as f:
        f.write(f'header = "Authorization: Bearer {users[ctx]}"\n')
        seen = set()
        for r in by_site[site]:
            target = r["path"] + ("?" + r["query"] if r["query"] else "")
            if target in seen:
                continue
            seen.add(target)
            total += 1
            f.write(f'url = "{servers[ctx]}{target}"\noutput = "/dev/null"\n')
step = max(1, len(sites) // max(1, sample))
chosen = sites[::step][:sample]
for site in chosen:
    cmds = []
    seen = set()
    for r in by_site[site]:
        segs = r["path"].strip("/").split("/")
        query = urllib.parse.parse_qs(r["query"] or "")
        if (segs[0] == "api" and len(segs) < 3) or (segs[0] == "apis" and len(segs) < 4):
            continue  # discovery: kubectl does its own
        if segs[0] == "api":
            group, version, rest = "", segs[1], segs[2:]
        else:
            group, version, rest = segs[1], segs[2], segs[3:]
        if not rest:
            continue  # discovery: kubectl does its own
        ns = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            ns, rest = rest[1], rest[2:]
        resource = ".".join(x for x in (rest[0], version, group) if x)
        if len(rest) == 2:
            cmd = ["get", resource, rest[1]] + (["-n", ns] if ns else []) + ["-o", "json", "--show-managed-fields"]
        elif "labelSelector" in query:
            cmd = ["get", resource, "-A", "-l", query["labelSelector"][0], "-o", "json", "--show-managed-fields"]
        else:
            continue
        if tuple(cmd) in seen:
            continue
        seen.add(tuple(cmd))
        cmds.append(cmd)
    with open(f"{work}/kubectl/{site}.json", "w") as f:
        json.dump({"context": f"edge-{site}", "commands": cmds}, f)
print(f"{len(sites)} {total} {' '.join(chosen)}")
EOF
read -r served_sites total_requests sample_sites < <(python3 -c "
import json,sys,os
w='$WORK'
sites=sorted(f[:-4] for f in os.listdir(w+'/curl'))
n=sum(open(w+'/curl/'+f).read().count('url = ') for f in os.listdir(w+'/curl'))
chosen=sorted(f[:-5] for f in os.listdir(w+'/kubectl'))
print(len(sites), n, ' '.join(chosen))")

# 2. raw HTTP: the same requests, once, $JOBS sites at a time
ls "$WORK"/curl/*.cfg >"$WORK/curl.list"
/usr/bin/time -v -o "$WORK/time.curl" \
  xargs -P "$JOBS" -I{} curl -s --fail-with-body --cacert "$WORK/ca.pem" --config {} <"$WORK/curl.list" >/dev/null
read -r raw_wall raw_rss < <(timing "$WORK/time.curl")
printf '  %-58s wall %7.2f s  peak RSS %5d MiB\n' "raw HTTP (curl), the same $total_requests requests, $JOBS at a time" "$raw_wall" "$((raw_rss / 1024))"

# 3. per site: read_fleet for one site, curl for one site, kubectl get for one site
echo "  per site (sample of $(wc -w <<<"$sample_sites")):"
: >"$WORK/per-site"
for site in $sample_sites; do
  /usr/bin/time -v -o "$WORK/time.one" "${READ[@]}" --jobs 1 --site "$site" >/dev/null 2>&1 || true
  read -r one_wall one_rss < <(timing "$WORK/time.one")
  /usr/bin/time -v -o "$WORK/time.onecurl" curl -s --cacert "$WORK/ca.pem" --config "$WORK/curl/$site.cfg" >/dev/null
  read -r curl_wall curl_rss < <(timing "$WORK/time.onecurl")
  rm -rf "$WORK/kube-cache"
  kc_wall=0 kc_rss=0 n=0
  context="edge-$site"
  while IFS= read -r line; do
    # shellcheck disable=SC2086
    /usr/bin/time -v -o "$WORK/time.kc" "$KUBECTL" --kubeconfig "$WORK/kubeconfig" --cache-dir "$WORK/kube-cache" \
      --context "$context" $line >/dev/null 2>&1 || true
    read -r w r < <(timing "$WORK/time.kc")
    kc_wall=$(python3 -c "print($kc_wall + $w)")
    ((r > kc_rss)) && kc_rss=$r
    n=$((n + 1))
  done < <(python3 -c "
import json
d=json.load(open('$WORK/kubectl/$site.json'))
for c in d['commands']: print(' '.join(c))")
  printf '    %-22s %s %5.2f s %4d MiB | curl %5.2f s | kubectl get x%-3d %6.2f s %4d MiB | kubectl/edgefleet %5.1fx\n' \
    "$site" "${WHAT%% (*}" "$one_wall" "$((one_rss / 1024))" "$curl_wall" "$n" "$kc_wall" "$((kc_rss / 1024))" \
    "$(python3 -c "print($kc_wall / max($one_wall, 0.001))")"
  echo "$site $one_wall $curl_wall $kc_wall" >>"$WORK/per-site"
done
stop_server

# 4. one site that never answers
hung="$(cut -d' ' -f1 <<<"$sample_sites")"
start_server --hang "$hung"
/usr/bin/time -v -o "$WORK/time.hang" "${READ[@]}" --jobs "$JOBS" --timeout "$HANG_TIMEOUT" \
  >"$WORK/hang.out" 2>"$WORK/hang.err" || true
read -r hang_wall hang_rss < <(timing "$WORK/time.hang")
printf '  %-58s wall %7.2f s  peak RSS %5d MiB\n' "the fleet with $hung never answering, --timeout $HANG_TIMEOUT" "$hang_wall" "$((hang_rss / 1024))"
found "$WORK/hang.out" | sed 's/^/      /'
/usr/bin/time -v -o "$WORK/time.hang1" "${READ[@]}" --jobs 1 --timeout "$HANG_TIMEOUT" --site "$hung" \
  >/dev/null 2>&1 || true
read -r hang1_wall _ < <(timing "$WORK/time.hang1")
printf '  %-58s wall %7.2f s\n' "$hung alone, --timeout $HANG_TIMEOUT" "$hang1_wall"
stop_server

python3 - "$drift_wall" "$raw_wall" "$WORK/per-site" "$hang_wall" "$HANG_TIMEOUT" <<'EOF'
import statistics, sys
drift, raw, per_site, hang, timeout = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
rows = [l.split() for l in open(per_site) if l.strip()]
ratios = [float(r[3]) / max(float(r[1]), 1e-3) for r in rows]
print(f"  fleet / raw HTTP: {drift / raw:.2f}x (target < 10x)")
if ratios:
    print(f"  per site, kubectl get / one-site run: median {statistics.median(ratios):.1f}x")
print(f"  one never-answering site added {hang - drift:+.2f} s to the fleet (timeout {timeout:.0f} s)")
EOF
