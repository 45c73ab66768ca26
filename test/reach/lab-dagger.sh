#!/usr/bin/env bash
# A stand-in `dagger` CLI for the air-gapped lab, so the CI wrappers can run unchanged against the
# lab engine: `dagger call -m MOD …` becomes `portcullis lab call -m MOD …`, and Dagger v0.21's
# `… export --path P` becomes the lab's `--export P`. Only `call` is supported.
set -euo pipefail
# Global flags before the verb (the official GitHub action passes `--progress plain`) change only output.
while [[ "${1:-}" == -* ]]; do
  case "$1" in
    --progress) shift 2 ;;
    --progress=* | -s | --silent | -q | --quiet) shift ;;
    *) echo "lab-dagger.sh: unsupported global flag $1" >&2; exit 2 ;;
  esac
done
[[ "${1:-}" == call ]] || { echo "lab-dagger.sh: only 'dagger call' is supported (got '${1:-}')" >&2; exit 2; }
shift
repo="$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)"
mod=.
args=()
while (($#)); do
  case "$1" in
    -m | --mod) mod=$2; shift 2 ;;
    export)
      if [[ "${2:-}" == --path ]]; then args+=(--export "$3"); shift 3; else args+=("$1"); shift; fi ;;
    *) args+=("$1"); shift ;;
  esac
done
# tsx finds the tsconfig (decorators on) from the cwd, which is the caller's, not the repository.
export TSX_TSCONFIG_PATH="${TSX_TSCONFIG_PATH:-$repo/tsconfig.json}"
exec node "$repo/ci/bin/portcullis.mjs" lab call -m "$mod" "${args[@]}"
