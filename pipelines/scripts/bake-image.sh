#!/usr/bin/env bash
# Bakes one agent image with `make image` and records how long it took, also when the bake fails.
#   PKR_VAR_FILE   Packer variable file of the image, e.g. packer/ubuntu-24.04.pkrvars.hcl
#   DURATION_FILE  JSON record written here: {"varFile", "started", "seconds", "exitCode"}
# The nightly builds in the agents' subnet, so the Packer VM gets no public IP: the build resource group
# and the network must be given (PKR_VAR_build_resource_group_name, PKR_VAR_virtual_network_name,
# PKR_VAR_virtual_network_subnet_name, PKR_VAR_virtual_network_resource_group_name); without them
# Packer would create a temporary resource group, VNet and public IP.
set -euo pipefail

var_file="${PKR_VAR_FILE:?PKR_VAR_FILE must name a Packer variable file}"
duration_file="${DURATION_FILE:?DURATION_FILE must name the JSON file to write}"
if [[ "$var_file" =~ [^A-Za-z0-9._/-] ]]; then
  echo "PKR_VAR_FILE has characters outside [A-Za-z0-9._/-]: $var_file" >&2
  exit 3
fi
if [[ "$var_file" == *..* ]]; then
  echo "PKR_VAR_FILE must not contain '..': $var_file (name a var file inside the repository, e.g. packer/ubuntu-24.04.pkrvars.hcl)" >&2
  exit 3
fi
for name in build_resource_group_name virtual_network_name virtual_network_subnet_name virtual_network_resource_group_name; do
  value="PKR_VAR_$name"
  if [[ -z "${!value:-}" ]]; then
    echo "$value is not set: the nightly bakes in an existing resource group and the agents' subnet, without a public IP" >&2
    exit 3
  fi
done

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
