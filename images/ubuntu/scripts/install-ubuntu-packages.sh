#!/usr/bin/env bash
# The Ubuntu packages the toolset lists (git, jq, unzip, acl, at, ...), from the image's own archive.
set -euo pipefail
IMAGE_DIR=${IMAGE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# shellcheck source=images/ubuntu/scripts/lib.sh
. "$IMAGE_DIR/scripts/lib.sh"

# jq reads the toolset, so it comes first.
if ! command -v jq >/dev/null; then
    apt_install jq
fi
mapfile -t packages < <(toolset_get ubuntu_packages packages)
apt_install "${packages[@]}"

check ubuntu-packages
