#!/usr/bin/env bash
# The software report of the finished image, as software-report.json and software-report.md in
# IMAGE_STATE_DIR: each tool's pinned and installed version and why it is pinned, the apt packages of
# the tools and the Ubuntu packages with their installed versions, the pre-pulled container images by
# digest, and every sha256 and signing key verified while baking (the ledger lib.sh keeps). Packer downloads both files as build artifacts.
set -euo pipefail
IMAGE_DIR=${IMAGE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# shellcheck source=images/ubuntu/scripts/lib.sh
. "$IMAGE_DIR/scripts/lib.sh"

installed_package() {
    dpkg-query -W -f='${Version}' "$1" 2>/dev/null || printf 'not installed'
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

while IFS= read -r tool; do
    printf '%s\t%s\t%s\n' "$tool" "$(tool_version "$tool")" "$("version_${tool//-/_}")"
    if [[ $(toolset_get tools "$tool" install) == apt ]]; then
        while IFS= read -r pin; do
            printf '%s\t%s\t%s\n' "${pin%%=*}" "${pin#*=}" "$(installed_package "${pin%%=*}")" >>"$work/apt.tsv"
        done < <(apt_pins "$tool")
    fi
done < <(toolset_tools) >"$work/tools.tsv"
touch "$work/apt.tsv"
while IFS= read -r name; do
    printf '%s\t%s\n' "$name" "$(installed_package "$name")"
done < <(toolset_get ubuntu_packages packages) >"$work/ubuntu.tsv"
while IFS=$'\t' read -r name digest tag; do
    present=no
    if [[ -n $(image_id "$name@$digest") ]]; then
        present=yes
    fi
    printf '%s\t%s\t%s\t%s\n' "$name" "$tag" "$digest" "$present"
done < <(container_images) >"$work/containers.tsv"
touch "$LEDGER"

mkdir -p "$IMAGE_STATE_DIR"
jq -n \
    --arg image_version "${IMAGE_VERSION:-unknown}" \
    --arg image_name "${IMAGE_NAME:-unknown}" \
    --arg os "$(os_release PRETTY_NAME)" \
    --arg kernel "$(uname -r)" \
    --arg generated "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    --slurpfile toolset "$TOOLSET" \
    --rawfile tools "$work/tools.tsv" \
    --rawfile apt "$work/apt.tsv" \
    --rawfile ubuntu "$work/ubuntu.tsv" \
    --rawfile containers "$work/containers.tsv" \
    --rawfile verified "$LEDGER" '
    def rows($text): $text | split("\n") | map(select(length > 0) | split("\t"));
    {
      image: {name: $image_name, version: $image_version, os: $os, kernel: $kernel, generated: $generated},
      tools: [rows($tools)[] | {name: .[0], pinned: .[1], installed: .[2],
                               reason: $toolset[0].tools[.[0]].reason}],
      apt_packages: [rows($apt)[] | {name: .[0], pinned: .[1], installed: .[2]}],
      ubuntu_packages: [rows($ubuntu)[] | {name: .[0], installed: .[1]}],
      container_images: [rows($containers)[] | {name: .[0], tag: (if .[1] == "" then null else .[1] end),
                                                digest: .[2], present: (.[3] == "yes")}],
      verified: [rows($verified)[] | {kind: .[0], subject: .[1], value: .[2], source: .[3]}]
    }' >"$IMAGE_STATE_DIR/software-report.json"

jq -r '
  def cell: tostring | gsub("\\|"; "\\|") | gsub("\n"; " ");
  "# Agent image \(.image.name) \(.image.version)",
  "",
  "\(.image.os), kernel \(.image.kernel), generated \(.image.generated).",
  "",
  "## Tools",
  "",
  "| Tool | Pinned | Installed | Why this pin |",
  "| --- | --- | --- | --- |",
  (.tools[] | "| \(.name) | \(.pinned) | \(.installed) | \(.reason | cell) |"),
  "",
  "## Apt packages of the tools",
  "",
  "| Package | Pinned | Installed |",
  "| --- | --- | --- |",
  (.apt_packages[] | "| \(.name) | \(.pinned) | \(.installed) |"),
  "",
  "## Ubuntu packages",
  "",
  "| Package | Installed |",
  "| --- | --- |",
  (.ubuntu_packages[] | "| \(.name) | \(.installed) |"),
  "",
  "## Container images",
  "",
  if (.container_images | length) == 0 then "None pre-pulled." else
    "| Image | Tag | Digest | Present |",
    "| --- | --- | --- | --- |",
    (.container_images[] | "| \(.name) | \(.tag // "-") | `\(.digest)` | \(if .present then "yes" else "NO" end) |")
  end,
  "",
  "## Verified while baking",
  "",
  "| What | Subject | Value | Source |",
  "| --- | --- | --- | --- |",
  (.verified[] | "| \(.kind) | \(.subject | cell) | `\(.value)` | \(.source | cell) |")
' "$IMAGE_STATE_DIR/software-report.json" >"$IMAGE_STATE_DIR/software-report.md"

log "software report: $IMAGE_STATE_DIR/software-report.json and software-report.md"
