#!/usr/bin/env bash
# portcullis in any CI (or on a laptop) with the Dagger CLI on PATH: runs the pipeline with
# `dagger call`, exports the reports, publishes only after a pass, and exits 0 pass, 1 fail, 2 error.
#
#   docs/ci/portcullis.sh [--help]
#
# Settings come from the environment (all optional):
#   PORTCULLIS_MODULE             the module: a path or a git ref (github.com/ORG/portcullis@vX.Y.Z); default: this repository
#   PORTCULLIS_SOURCE             the service to judge (its directory, with its Dockerfile); default: app
#   PORTCULLIS_POLICY             policy YAML file; default: the module's default policy
#   PORTCULLIS_REPORTS            where the reports go (portcullis.sarif, summary.md, verdict.json, junit.xml); default: reports
#   PORTCULLIS_PUBLISH_ADDRESS    image address to publish to after a pass; default: do not publish
#   PORTCULLIS_REGISTRY_USERNAME  registry user for publishing
#   PORTCULLIS_REGISTRY_PASSWORD  registry password; read by Dagger as a Secret (env:), never put on the command line
#   PORTCULLIS_DB_REPOSITORY      Trivy DB mirror for networks without the public one (e.g. registry.corp/trivy-db)
#   PORTCULLIS_DB_USERNAME        user for the DB mirror
#   PORTCULLIS_DB_PASSWORD        password for the DB mirror; read by Dagger as a Secret (env:)
set -uo pipefail

if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
if [[ $# -gt 0 ]]; then
  echo "portcullis.sh: takes no arguments (got \"$1\"); configure it with PORTCULLIS_* variables, see --help" >&2
  exit 2
fi

module="${PORTCULLIS_MODULE:-$(cd "$(dirname "$0")/../.." && pwd)}"
source_dir="${PORTCULLIS_SOURCE:-app}"
policy="${PORTCULLIS_POLICY:-}"
reports="${PORTCULLIS_REPORTS:-reports}"
address="${PORTCULLIS_PUBLISH_ADDRESS:-}"
username="${PORTCULLIS_REGISTRY_USERNAME:-}"
db_repository="${PORTCULLIS_DB_REPOSITORY:-}"
db_username="${PORTCULLIS_DB_USERNAME:-}"

command -v dagger >/dev/null || { echo "portcullis.sh: the dagger CLI is not on PATH (https://docs.dagger.io/install)" >&2; exit 2; }

# The reports come back whatever the outcome; only an engine or argument problem makes this fail.
if ! dagger call -m "$module" pipeline --source "$source_dir" ${policy:+--policy "$policy"} \
  ${db_repository:+--db-repository "$db_repository"} ${db_username:+--db-username "$db_username"} \
  ${PORTCULLIS_DB_PASSWORD:+--db-password env:PORTCULLIS_DB_PASSWORD} \
  reports export --path "$reports"; then
  echo "portcullis.sh: outcome error (dagger call failed before the reports were exported)" >&2
  exit 2
fi

# verdict.json is pretty-printed by the module; its top-level outcome is the only key at two spaces.
outcome=$(sed -n 's/^  "outcome": "\([a-z]*\)",\{0,1\}$/\1/p' "$reports/verdict.json" 2>/dev/null)
case "$outcome" in
  pass) code=0 ;;
  fail) code=1 ;;
  *) outcome=error; code=2 ;;
esac
echo "portcullis.sh: outcome $outcome (reports in $reports/)"

if [[ "$code" == 0 && -n "$address" ]]; then
  # Same pipeline, served from Dagger's cache; the module itself refuses to publish anything that did not pass.
  if ! reference=$(dagger call -m "$module" pipeline --source "$source_dir" ${policy:+--policy "$policy"} \
    ${db_repository:+--db-repository "$db_repository"} ${db_username:+--db-username "$db_username"} \
    ${PORTCULLIS_DB_PASSWORD:+--db-password env:PORTCULLIS_DB_PASSWORD} \
    publish --address "$address" ${username:+--username "$username"} \
    ${PORTCULLIS_REGISTRY_PASSWORD:+--password env:PORTCULLIS_REGISTRY_PASSWORD}); then
    echo "portcullis.sh: outcome error (the gate passed but publishing to $address failed)" >&2
    exit 2
  fi
  echo "portcullis.sh: published $reference"
fi
exit "$code"
