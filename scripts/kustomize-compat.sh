#!/usr/bin/env bash
# Kustomize compatibility, measured as a new user would: in every repository given, find every
# folder holding a kustomization file, build it with `kubectl kustomize`, and for each folder
# kubectl builds, build it with `edgefleet render` and compare the bytes. Prints one line per
# folder (with -v) and the share of kubectl-built folders that edgefleet renders identically.
#
#   scripts/kustomize-compat.sh [-v] REPO_OR_FOLDER...
#
# Folders kubectl refuses (helm charts without --enable-helm, exec plugins without alpha flags,
# remote resources without network, broken inputs) are counted apart and do not enter the share.
# Tools: $EDGEFLEET (default target/release/edgefleet), $EDGEFLEET_KUBECTL (default
# .venv-oracles/bin/kubectl). kubectl runs under a memory limit and a timeout.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
edgefleet="${EDGEFLEET:-$here/target/release/edgefleet}"
kubectl="${EDGEFLEET_KUBECTL:-$here/.venv-oracles/bin/kubectl}"
verbose=0
if [ "${1:-}" = "-v" ]; then
  verbose=1
  shift
fi
if [ $# -eq 0 ]; then
  echo "usage: $0 [-v] REPO_OR_FOLDER..." >&2
  exit 64
fi
for tool in "$edgefleet" "$kubectl"; do
  if [ ! -x "$tool" ]; then
    echo "$0: $tool is not an executable (build edgefleet, install the oracles)" >&2
    exit 69
  fi
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

built=0 identical=0 different=0 refused=0 failed=0 kubectl_fails=0
while IFS= read -r -d '' dir; do
  if ! (ulimit -v 1500000; timeout 30 "$kubectl" kustomize "$dir") >"$work/want" 2>"$work/want.err"; then
    kubectl_fails=$((kubectl_fails + 1))
    [ "$verbose" = 1 ] && echo "SKIP      $dir (kubectl fails: $(tail -n 1 "$work/want.err" | cut -c1-120))"
    continue
  fi
  built=$((built + 1))
  set +e
  timeout 60 "$edgefleet" render "$dir" >"$work/got" 2>"$work/got.err"
  code=$?
  set -e
  if [ "$code" = 0 ] && cmp -s "$work/want" "$work/got"; then
    identical=$((identical + 1))
    [ "$verbose" = 1 ] && echo "IDENTICAL $dir"
  elif [ "$code" = 0 ]; then
    different=$((different + 1))
    if [ "$verbose" = 1 ]; then
      line="$( (diff "$work/want" "$work/got" || true) | head -n 3 | tr '\n' ' ' | cut -c1-160)"
      echo "DIFFERENT $dir: $line"
    fi
  elif [ "$code" = 2 ]; then
    refused=$((refused + 1))
    [ "$verbose" = 1 ] && echo "REFUSED   $dir: $(tail -n 1 "$work/got.err" | cut -c1-160)"
  else
    failed=$((failed + 1))
    [ "$verbose" = 1 ] && echo "FAILED    $dir (exit $code): $(tail -n 1 "$work/got.err" | cut -c1-160)"
  fi
done < <(find "$@" \( -name .git -o -name target -o -name node_modules \) -prune -o \
  \( -name kustomization.yaml -o -name kustomization.yml -o -name Kustomization \) -type f \
  -printf '%h\0' | sort -zu)

if [ "$built" = 0 ]; then
  echo "kubectl builds 0 folders (it fails on $kubectl_fails)"
  exit 0
fi
share="$(awk -v a="$identical" -v b="$built" 'BEGIN { printf "%.1f", 100 * a / b }')"
echo "kubectl builds $built folders (fails on $kubectl_fails more); edgefleet identical on $identical ($share %), different output $different, refused $refused, other failures $failed"
