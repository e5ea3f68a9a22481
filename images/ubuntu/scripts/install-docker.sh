#!/usr/bin/env bash
# Docker Engine with buildx and compose, from Docker's apt repository at the toolset's exact versions.
set -euo pipefail
IMAGE_DIR=${IMAGE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# shellcheck source=images/ubuntu/scripts/lib.sh
. "$IMAGE_DIR/scripts/lib.sh"

apt_install_pinned docker
systemctl enable --now docker.service containerd.service

check docker
