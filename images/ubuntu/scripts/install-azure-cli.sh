#!/usr/bin/env bash
# The Azure CLI, from Microsoft's apt repository at the toolset's exact version.
set -euo pipefail
IMAGE_DIR=${IMAGE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# shellcheck source=images/ubuntu/scripts/lib.sh
. "$IMAGE_DIR/scripts/lib.sh"

apt_add_repository azure-cli
apt_update
mapfile -t pins < <(apt_pins azure-cli)
apt_install "${pins[@]}"
apt-mark hold "${pins[@]%%=*}" >/dev/null

check azure-cli
