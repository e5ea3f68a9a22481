#!/usr/bin/env bash
# kubelogin, the release zip from Azure/kubelogin, sha256-verified.
set -euo pipefail
IMAGE_DIR=${IMAGE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# shellcheck source=images/ubuntu/scripts/lib.sh
. "$IMAGE_DIR/scripts/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fetch_artifact kubelogin "$work/kubelogin.zip"
member="bin/linux_$(image_arch)/kubelogin"
unzip -q "$work/kubelogin.zip" "$member" -d "$work"
install -D -m 0755 "$work/$member" "$IMAGE_BIN_DIR/kubelogin"

check kubelogin
