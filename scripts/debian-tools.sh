#!/usr/bin/env bash
# Install the Debian tools the checks need (shellcheck, packer for `packer fmt`), only if missing.
set -euo pipefail

need=()
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)
command -v packer >/dev/null 2>&1 || need+=(packer)
[ "${#need[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "missing tools: ${need[*]} (install them with your package manager)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
