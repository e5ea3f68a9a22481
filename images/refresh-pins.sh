#!/usr/bin/env bash
# Maintainer tool, run where the internet is reachable: read every tool's published checksum file and
# write the sha256 it gives into images/ubuntu/toolset.json (sha256 + sha256_from). Prints what changed;
# review the diff before committing. A checksum file that cannot be read or parsed aborts without
# writing anything. Tools without a checksum_url keep their pin. It never reads a checksum through a
# download mirror (IMAGE_MIRROR_URL): the mirror serves bytes, and a pin must come from the upstream.
set -euo pipefail
IMAGE_DIR=${IMAGE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/ubuntu" && pwd)}
# shellcheck source=images/ubuntu/scripts/lib.sh
. "$IMAGE_DIR/scripts/lib.sh"

[[ -z $IMAGE_MIRROR_URL ]] \
    || die "IMAGE_MIRROR_URL is set ($IMAGE_MIRROR_URL): a mirror never supplies a checksum; unset it to read the upstream's checksum files"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$TOOLSET" "$work/toolset.json"
today=$(date -u +%Y-%m-%d)
changes=0

while IFS=$'\t' read -r tool arch; do
    checksum_url=$(toolset_opt tools "$tool" downloads "$arch" checksum_url)
    if [[ -z $checksum_url ]]; then
        log "$tool ($arch): no checksum file published; keeping its pin"
        continue
    fi
    checksum_url=$(expand "$checksum_url" "$tool")
    url=$(expand "$(toolset_get tools "$tool" downloads "$arch" url)" "$tool")
    download "$checksum_url" "$work/checksum"
    sum=$(checksum_from_file "$work/checksum" "${url##*/}")
    old=$(toolset_opt tools "$tool" downloads "$arch" sha256)
    if [[ $sum == "$old" ]]; then
        log "$tool ($arch): pin unchanged"
        continue
    fi
    log "$tool ($arch): ${old:-no pin} -> $sum"
    changes=$((changes + 1))
    jq --arg t "$tool" --arg a "$arch" --arg s "$sum" --arg from "$checksum_url, read $today by images/refresh-pins.sh" \
        '.tools[$t].downloads[$a] += {sha256: $s, sha256_from: $from}' "$work/toolset.json" >"$work/next.json"
    mv "$work/next.json" "$work/toolset.json"
done < <(jq -r '.tools | to_entries[] | select(.value.install == "download")
    | .key as $t | .value.downloads | keys[] | [$t, .] | @tsv' "$TOOLSET")

if [[ $changes -gt 0 ]]; then
    # keep the file's two-space layout
    jq --indent 2 . "$work/toolset.json" >"$TOOLSET"
fi
log "$changes pin(s) changed in $TOOLSET"
