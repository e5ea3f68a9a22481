#!/usr/bin/env bash
# In-image validation, run by Packer once everything is installed and configured: every check of
# checks.sh (each toolset tool at its pinned version, docker runs a container, kubectl/helm/kubelogin/az
# answer, an unconfigured agent in /agent whose installdependencies.sh succeeds with apt offline, the
# pre-pulled container images, keys-only SSH, no unattended upgrades, kernel settings).
# Each check runs in its own shell so one failure does not hide the others; any failure fails the build.
set -euo pipefail
IMAGE_DIR=${IMAGE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# shellcheck source=images/ubuntu/scripts/lib.sh
. "$IMAGE_DIR/scripts/lib.sh"

mapfile -t checks < <(printf '%s\n' ubuntu-packages; toolset_tools; printf '%s\n' container-images apt-config ssh system)
failed=()
for name in "${checks[@]}"; do
    rc=0
    IMAGE_DIR=$IMAGE_DIR bash -c '. "$IMAGE_DIR/scripts/lib.sh" && check "$1"' validate "$name" || rc=$?
    if [[ $rc -ne 0 ]]; then
        failed+=("$name")
    fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
    die "${#failed[@]} of ${#checks[@]} checks failed: ${failed[*]}"
fi
log "all ${#checks[@]} checks passed"
