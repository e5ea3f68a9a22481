#!/usr/bin/env bash
# Bakes one agent image with `make image` and records how long it took, also when the bake fails.
#   PKR_VAR_FILE   Packer variable file of the image, e.g. packer/ubuntu-24.04.pkrvars.hcl
#   DURATION_FILE  JSON record written here: {"varFile", "started", "seconds", "exitCode"}
set -euo pipefail

var_file="${PKR_VAR_FILE:?PKR_VAR_FILE must name a Packer variable file}"
duration_file="${DURATION_FILE:?DURATION_FILE must name the JSON file to write}"
if [[ "$var_file" =~ [^A-Za-z0-9._/-] ]]; then
  echo "PKR_VAR_FILE has characters outside [A-Za-z0-9._/-]: $var_file" >&2
  exit 3
fi

started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
SECONDS=0

record() {
  local status=$? seconds=$SECONDS
  mkdir -p "$(dirname "$duration_file")"
  printf '{"varFile": "%s", "started": "%s", "seconds": %d, "exitCode": %d}\n' \
    "$var_file" "$started" "$seconds" "$status" >"$duration_file"
  echo "make image for $var_file took ${seconds}s (exit code $status)"
}
trap record EXIT

make image PKR_VAR_FILE="$var_file"
