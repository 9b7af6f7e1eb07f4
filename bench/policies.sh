#!/usr/bin/env bash
# Benchmark the team's own policies under `edgefleet lint --fleet`, in one run:
#   the whole rendered SITES-site synthetic fleet linted without policies, then with 100 Rego
#   rules (10 packages of 10, two of them reading the site) and 20 ValidatingAdmissionPolicies
#   with their bindings (one with params); wall time and peak RSS of each, best of RUNS, and the
#   ratio.
# Needs GNU time (/usr/bin/time) and python3.
#
#   bash bench/policies.sh [SITES] [RUNS] [SEED]
#
# Target (issue "Your own policies"): with policies <= 2x the run without them.
set -euo pipefail
ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
SITES="${1:-10000}"
RUNS="${2:-3}"
SEED="${3:-1}"
cd "$ROOT"
cargo build --release --locked --quiet -p edgefleet
BIN="$ROOT/target/release/edgefleet"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/edgefleet-policies-bench.XXXXXX")"
# KEEP_WORK=1 keeps the fleet, the policies and both configs (for a profiler run).
if [[ -z "${KEEP_WORK:-}" ]]; then trap 'rm -rf "$WORK"' EXIT; fi
cd "$WORK"

echo "edgefleet policies benchmark: $SITES synthetic sites (seed $SEED), best of $RUNS, $(nproc) cores, work folder $WORK"
"$BIN" inventory synth --sites "$SITES" --seed "$SEED" --out "$WORK/inventory" >/dev/null
"$BIN" generate --inventory "$WORK/inventory" --out "$WORK/out" >/dev/null

python3 - "$WORK" <<'EOF'
import os, sys
work = sys.argv[1]
rego = os.path.join(work, "policy")
adm = os.path.join(work, "admission")
os.makedirs(rego, exist_ok=True)
os.makedirs(adm, exist_ok=True)

# 100 Rego rules: 10 packages x 10 rules, the checks platform teams write (replicas, labels,
# registries, privileges, probes, resources); packages 0 and 1 read the site.
checks = [
    ('deny_replicas_{p}_{r}', 'input.kind == "Deployment"\n\tinput.spec.replicas > {n}\n\tmsg := sprintf("%s runs %d replicas, more than {n}", [input.metadata.name, input.spec.replicas])'),
    ('deny_owner_label_{p}_{r}', 'input.kind == "Namespace"\n\tnot input.metadata.labels["owner-{p}-{r}"]\n\tinput.metadata.labels["require-owner-{p}-{r}"]\n\tmsg := "namespace without owner"'),
    ('deny_registry_{p}_{r}', 'some c in input.spec.template.spec.containers\n\tstartswith(c.image, "docker.io/blocked-{p}-{r}/")\n\tmsg := sprintf("container %s pulls from a blocked registry", [c.name])'),
    ('deny_privileged_{p}_{r}', 'some c in input.spec.template.spec.containers\n\tc.securityContext.privileged == true\n\tc.name == "privileged-{p}-{r}"\n\tmsg := "privileged container"'),
    ('warn_latest_{p}_{r}', 'some c in input.spec.template.spec.containers\n\tendswith(c.image, ":latest-{p}-{r}")\n\tmsg := "floating tag"'),
    ('deny_host_port_{p}_{r}', 'some c in input.spec.template.spec.containers\n\tsome port in c.ports\n\tport.hostPort == {n}\n\tmsg := "host port"'),
    ('warn_no_probe_{p}_{r}', 'input.kind == "StatefulSet"\n\tsome c in input.spec.template.spec.containers\n\tnot c.readinessProbe\n\tc.name == "no-probe-{p}-{r}"\n\tmsg := "no readiness probe"'),
    ('deny_service_type_{p}_{r}', 'input.kind == "Service"\n\tinput.spec.type == "ExternalName-{p}-{r}"\n\tmsg := "ExternalName service"'),
    ('deny_configmap_size_{p}_{r}', 'input.kind == "ConfigMap"\n\tcount(input.data) > {n}\n\tmsg := "too many keys"'),
    ('warn_annotation_{p}_{r}', 'input.metadata.annotations["deprecated-{p}-{r}"]\n\tmsg := "deprecated annotation"'),
]
site_checks = [
    ('deny_vsat_loadbalancer_{p}_{r}', 'data.edgefleet.site.backhaul.name == "vsat"\n\tinput.kind == "Service"\n\tinput.spec.type == "LoadBalancer"\n\tmsg := "LoadBalancer at a VSAT site"'),
    ('deny_replicas_small_site_{p}_{r}', 'input.kind == "Deployment"\n\tdata.edgefleet.site.hardware.cpu_millis < 1000\n\tinput.spec.replicas > {n}\n\tmsg := "too many replicas for the site"'),
]
for p in range(10):
    rules = []
    for r in range(10):
        if p < 2 and r < 2:
            name, body = site_checks[r]
        else:
            name, body = checks[r]
        n = 50 + p * 10 + r
        name = name.format(p=p, r=r)
        body = body.replace("{p}", str(p)).replace("{r}", str(r)).replace("{n}", str(n))
        head = name if name.startswith(("deny", "warn")) else name
        rules.append(f"{head} contains msg if {{\n\t{body}\n}}\n")
    with open(os.path.join(rego, f"team{p}.rego"), "w") as f:
        f.write(f"package team{p}\n\n" + "\n".join(rules))

# 20 ValidatingAdmissionPolicies with bindings; the expressions of the Kubernetes documentation's
# examples and the Kubernetes CEL libraries; policy 0 reads params from a ConfigMap.
exprs = [
    ("apps", "deployments", "object.spec.replicas <= 500"),
    ("apps", "deployments", "object.spec.template.spec.containers.all(c, !c.image.startsWith('blocked.example/'))"),
    ("apps", "deployments", "!has(object.spec.template.spec.hostNetwork) || !object.spec.template.spec.hostNetwork"),
    ("apps", "deployments", "object.spec.template.spec.containers.all(c, !has(c.resources.limits) || !has(c.resources.limits.memory) || quantity(c.resources.limits.memory).isLessThan(quantity('64Gi')))"),
    ("", "configmaps", "!has(object.data) || size(object.data) < 1000"),
    ("", "services", "!has(object.spec.type) || object.spec.type != 'ExternalName'"),
    ("", "namespaces", "object.metadata.name.size() <= 63"),
    ("apps", "deployments", "object.?spec.?strategy.?type.orValue('RollingUpdate') != 'Recreate-Blocked'"),
    ("apps", "daemonsets", "object.spec.template.spec.containers.all(c, c.image.find('[0-9]+') != 'blocked')"),
    ("apps", "statefulsets", "object.spec.replicas <= 100"),
    ("apps", "deployments", "object.metadata.name.matches('^[a-z0-9-]+$')"),
    ("apps", "deployments", "!has(object.metadata.labels) || !('forbidden' in object.metadata.labels)"),
    ("", "serviceaccounts", "object.metadata.name != 'default-blocked'"),
    ("apps", "deployments", "object.spec.template.spec.containers.map(c, c.name).isSorted() || true"),
    ("", "configmaps", "!has(object.data) || object.data.all(k, k.size() < 253)"),
    ("apps", "deployments", "object.spec.template.spec.containers.all(c, !has(c.ports) || c.ports.all(p, p.containerPort < 65536))"),
    ("networking.k8s.io", "networkpolicies", "has(object.spec.podSelector)"),
    ("apps", "deployments", "object.spec.template.spec.containers.all(c, !has(c.securityContext) || !has(c.securityContext.privileged) || !c.securityContext.privileged)"),
    ("batch", "cronjobs", "object.spec.schedule != ''"),
    ("apps", "deployments", "object.spec.template.spec.containers.all(c, c.image.split(':').size() <= 3)"),
]
with open(os.path.join(adm, "policies.yaml"), "w") as f:
    for i, (group, resource, expr) in enumerate(exprs):
        params = ""
        binding_params = ""
        if i == 0:
            params = "  paramKind:\n    apiVersion: v1\n    kind: ConfigMap\n"
            binding_params = "  paramRef:\n    name: replica-limit\n    namespace: policy-params\n    parameterNotFoundAction: Deny\n"
            expr = "object.spec.replicas <= int(params.data.maxReplicas)"
        f.write(f"""apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: bench-{i}
spec:
  failurePolicy: Fail
{params}  matchConstraints:
    resourceRules:
    - apiGroups: ["{group}"]
      apiVersions: ["v1"]
      operations: ["CREATE", "UPDATE"]
      resources: ["{resource}"]
  validations:
  - expression: "{expr}"
    message: "bench policy {i}"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: bench-{i}-binding
spec:
  policyName: bench-{i}
  validationActions: [Deny]
{binding_params}---
""")
    f.write("""apiVersion: v1
kind: ConfigMap
metadata:
  name: replica-limit
  namespace: policy-params
data:
  maxReplicas: "500"
""")
EOF
: >"$WORK/plain.toml"
cat >"$WORK/policies.toml" <<'EOF'
[policies]
rego = ["policy"]
admission = ["admission"]
EOF

# Best of RUNS: wall seconds and peak RSS (KiB) of `lint --fleet` with a config.
best() {
  local config="$1" best_wall="" best_rss="" best_cpu="" code=0
  for _ in $(seq "$RUNS"); do
    set +e
    /usr/bin/time -f '%e %M %U %S' -o "$WORK/time" \
      "$BIN" --config "$WORK/$config" lint --fleet "$WORK/out" --inventory "$WORK/inventory" --format json >"$WORK/out.json" 2>"$WORK/err"
    code=$?
    set -e
    if [[ $code -ge 2 ]]; then
      sed 's/^/   stderr: /' "$WORK/err" | head -5 >&2
      echo "lint --fleet failed with exit $code" >&2
      exit 1
    fi
    # GNU time writes "Command exited with non-zero status N" above the figures.
    read -r wall rss user sys < <(tail -n 1 "$WORK/time")
    if [[ -z "$best_wall" ]] || (($(echo "$wall < $best_wall" | bc))); then
      best_wall="$wall"
      best_rss="$rss"
      best_cpu=$(echo "$user + $sys" | bc)
    fi
  done
  findings=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; print(s["objects"], s["errors"]+s["warnings"]+s["notes"])' "$WORK/out.json")
  echo "$best_wall $best_rss $best_cpu $findings"
}

read -r plain_wall plain_rss plain_cpu objects plain_findings <<<"$(best plain.toml)"
printf 'without policies: wall %.2f s, CPU %.2f s, peak RSS %d MiB (%s objects, %s findings)\n' "$plain_wall" "$plain_cpu" "$((plain_rss / 1024))" "$objects" "$plain_findings"
read -r pol_wall pol_rss pol_cpu objects pol_findings <<<"$(best policies.toml)"
printf 'with 100 Rego rules + 20 admission policies: wall %.2f s, CPU %.2f s, peak RSS %d MiB (%s objects, %s findings)\n' "$pol_wall" "$pol_cpu" "$((pol_rss / 1024))" "$objects" "$pol_findings"
printf 'ratio: %.2fx wall, %.2fx CPU (target <= 2x)\n' "$(echo "$pol_wall / $plain_wall" | bc -l)" "$(echo "$pol_cpu / $plain_cpu" | bc -l)"
