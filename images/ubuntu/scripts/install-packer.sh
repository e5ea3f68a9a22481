#!/usr/bin/env bash
# Packer (bakes this image in the nightly), from HashiCorp's apt repository at the toolset's exact version.
set -euo pipefail
IMAGE_DIR=${IMAGE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# shellcheck source=images/ubuntu/scripts/lib.sh
. "$IMAGE_DIR/scripts/lib.sh"

apt_install_pinned packer

check packer
