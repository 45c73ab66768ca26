#!/usr/bin/env bash
# Regenerates requirements*.txt with sha256 hashes for every distribution, so the Dockerfile's
# `pip install --require-hashes` refuses anything that is not exactly what was locked.
# Needs pip-tools (pip install pip-tools==7.6.2) on Python 3.11, the Python of the image.
set -euo pipefail
cd "$(dirname "$0")"
export CUSTOM_COMPILE_COMMAND="./lock.sh"
pip-compile --quiet --generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links --output-file requirements.txt requirements.in
pip-compile --quiet --generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links --output-file requirements-dev.txt requirements-dev.in
