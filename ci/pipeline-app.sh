#!/usr/bin/env bash
# The main job on this machine: bring the air-gapped lab up, then run the pipeline on app/ through the
# lab engine, publishing to the lab registry with its credentials (passed as Dagger Secrets, never argv).
# Usage: ci/pipeline-app.sh [extra `portcullis run` options]   (npm run pipeline -- …)
set -euo pipefail
cd "$(dirname "$0")/.."

npx portcullis lab up
eval "$(npx portcullis lab env)"
exec npx portcullis lab exec -- npx portcullis run \
  --source app --policy policies/app.yaml --out reports/ \
  --db-repository "$PORTCULLIS_LAB_REGISTRY/trivy-db" \
  --db-username "$PORTCULLIS_LAB_REGISTRY_USER" --db-password-env PORTCULLIS_LAB_REGISTRY_PASSWORD \
  --publish "$PORTCULLIS_LAB_REGISTRY/portcullis/app:latest" \
  --username "$PORTCULLIS_LAB_REGISTRY_USER" --password-env PORTCULLIS_LAB_REGISTRY_PASSWORD \
  "$@"
