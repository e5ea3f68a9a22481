#!/usr/bin/env bash
# kubectl, the release binary from dl.k8s.io, sha256-verified.
set -euo pipefail
IMAGE_DIR=${IMAGE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# shellcheck source=images/ubuntu/scripts/lib.sh
. "$IMAGE_DIR/scripts/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fetch_artifact kubectl "$work/kubectl"
install -D -m 0755 "$work/kubectl" "$IMAGE_BIN_DIR/kubectl"

check kubectl
