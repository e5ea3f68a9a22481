#!/usr/bin/env bash
# The container images the toolset lists (container_images), pulled by digest and tagged locally with the
# tag pipelines know them by, so a fresh VM runs or builds FROM them without a pull. Nothing to do when
# the list is empty (the default). The registries must be reachable from the build VM.
set -euo pipefail
IMAGE_DIR=${IMAGE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# shellcheck source=images/ubuntu/scripts/lib.sh
. "$IMAGE_DIR/scripts/lib.sh"

while IFS=$'\t' read -r name digest tag; do
    retry docker pull --quiet "$name@$digest" >/dev/null
    if [[ -n $tag ]]; then
        docker tag "$name@$digest" "$name:$tag"
    fi
    record_verified digest "$name${tag:+:$tag}" "$digest" "pulled by digest"
done < <(container_images)

check container-images
