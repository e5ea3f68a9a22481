#!/usr/bin/env bash
# Helm, the release tarball from get.helm.sh, sha256-verified.
set -euo pipefail
IMAGE_DIR=${IMAGE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# shellcheck source=images/ubuntu/scripts/lib.sh
. "$IMAGE_DIR/scripts/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fetch_artifact helm "$work/helm.tar.gz"
member="linux-$(image_arch)/helm"
tar -xzf "$work/helm.tar.gz" -C "$work" "$member"
install -D -m 0755 "$work/$member" "$IMAGE_BIN_DIR/helm"

check helm
