# shellcheck shell=bash
# Shared helpers of the image scripts, sourced by every install-/configure- script and the in-image tests:
# strict mode, logging, bounded retry that keeps the real exit code, verified downloads (every sha256
# comes from the toolset, never from the network), apt repositories with a fingerprint-checked key and a
# signed-by deb822 source, and toolset reads. Every checksum or key actually verified is appended
# to the ledger that the software report publishes.
#
# Knobs (environment): IMAGE_DIR (the images/ubuntu folder), TOOLSET, IMAGE_STATE_DIR (ledger and report),
# IMAGE_BIN_DIR, AGENT_DIR, IMAGE_ARCH, OS_RELEASE_FILE, IMAGE_MIRROR_URL (an https URL: serve every
# download from <mirror>/<host>/<path> instead, e.g. an artifact proxy inside a private VNet; it serves
# bytes only, their sha256 still comes from the toolset), IMAGE_RETRY_ATTEMPTS,
# IMAGE_RETRY_DELAY (seconds, doubled after each failure), IMAGE_DOWNLOAD_TIMEOUT, APT_KEYRINGS_DIR,
# APT_SOURCES_DIR.

set -Eeuo pipefail
shopt -s inherit_errexit

IMAGE_DIR=${IMAGE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
TOOLSET=${TOOLSET:-$IMAGE_DIR/toolset.json}
IMAGE_STATE_DIR=${IMAGE_STATE_DIR:-/var/lib/agent-image}
IMAGE_BIN_DIR=${IMAGE_BIN_DIR:-/usr/local/bin}
AGENT_DIR=${AGENT_DIR:-/agent}
OS_RELEASE_FILE=${OS_RELEASE_FILE:-/etc/os-release}
IMAGE_MIRROR_URL=${IMAGE_MIRROR_URL:-}
IMAGE_RETRY_ATTEMPTS=${IMAGE_RETRY_ATTEMPTS:-4}
IMAGE_RETRY_DELAY=${IMAGE_RETRY_DELAY:-5}
IMAGE_DOWNLOAD_TIMEOUT=${IMAGE_DOWNLOAD_TIMEOUT:-900}
APT_KEYRINGS_DIR=${APT_KEYRINGS_DIR:-/etc/apt/keyrings}
APT_SOURCES_DIR=${APT_SOURCES_DIR:-/etc/apt/sources.list.d}
LEDGER=$IMAGE_STATE_DIR/verified.tsv
SCRIPT_NAME=$(basename "${BASH_SOURCE[-1]}")
export DEBIAN_FRONTEND=noninteractive

log() {
    printf '%s %s: %s\n' "$(date -u +%H:%M:%S)" "$SCRIPT_NAME" "$*" >&2
}

die() {
    log "ERROR: $*"
    exit 1
}

trap 'log "ERROR: command failed with exit $? (line $LINENO)"' ERR

# retry CMD [ARGS...]: run CMD up to IMAGE_RETRY_ATTEMPTS times, waiting IMAGE_RETRY_DELAY seconds
# (doubled each time) between tries; returns CMD's own exit code from the last try.
# CMD runs where `set -e` is off, so a function passed here must return its failures explicitly.
retry() {
    local attempt=1 delay=$IMAGE_RETRY_DELAY rc
    while true; do
        rc=0
        "$@" || rc=$?
        if [[ $rc -eq 0 ]]; then
            return 0
        fi
        if [[ $attempt -ge $IMAGE_RETRY_ATTEMPTS ]]; then
            log "giving up on $1 after $attempt attempts (exit $rc)"
            return "$rc"
        fi
        log "attempt $attempt/$IMAGE_RETRY_ATTEMPTS of $1 failed (exit $rc), retrying in ${delay}s"
        sleep "$delay"
        attempt=$((attempt + 1))
        delay=$((delay * 2))
    done
}

# mirror_url URL: the https URL itself, or its copy under IMAGE_MIRROR_URL (which must be https too).
mirror_url() {
    [[ $1 == https://* ]] || die "refusing a non-https download URL: $1"
    [[ -z $IMAGE_MIRROR_URL || $IMAGE_MIRROR_URL == https://* ]] \
        || die "IMAGE_MIRROR_URL must be an https URL, not '$IMAGE_MIRROR_URL'"
    if [[ -z $IMAGE_MIRROR_URL ]]; then
        printf '%s\n' "$1"
    else
        printf '%s/%s\n' "${IMAGE_MIRROR_URL%/}" "${1#https://}"
    fi
}

fetch_once() {
    local url=$1 dest=$2 code rc=0
    code=$(curl --silent --show-error --location --fail --proto =https --proto-redir =https \
        --connect-timeout 20 --max-time "$IMAGE_DOWNLOAD_TIMEOUT" \
        --write-out '%{http_code}' --output "$dest" "$url") || rc=$?
    if [[ $rc -ne 0 ]]; then
        log "GET $url failed: HTTP ${code:-000}, curl exit $rc"
    fi
    return "$rc"
}

# download URL DEST: fetch with bounded retry; on failure DEST does not exist and curl's exit code is returned.
download() {
    local url rc=0
    url=$(mirror_url "$1")
    mkdir -p "$(dirname "$2")"
    retry fetch_once "$url" "$2.part" || rc=$?
    if [[ $rc -ne 0 ]]; then
        rm -f "$2.part"
        log "ERROR: download of $url failed (curl exit $rc)"
        return "$rc"
    fi
    mv "$2.part" "$2"
}

# record_verified KIND SUBJECT VALUE SOURCE: append to the ledger of what was verified.
record_verified() {
    mkdir -p "$IMAGE_STATE_DIR"
    printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$LEDGER"
}

# verify_sha256 FILE EXPECTED SUBJECT SOURCE: abort unless FILE's sha256 is EXPECTED.
verify_sha256() {
    local actual
    actual=$(sha256sum "$1" | cut -d' ' -f1)
    if [[ $actual != "${2,,}" ]]; then
        die "checksum mismatch for $3: expected ${2,,} ($4), got $actual"
    fi
    log "sha256 verified for $3: $actual"
    record_verified sha256 "$3" "$actual" "$4"
}

# checksum_from_file FILE NAME: the sha256 a published checksum file gives for the artifact NAME (what
# images/refresh-pins.sh writes into the toolset).
# Reads `HASH  NAME` lists, a bare hash, or a release-notes table (a GitHub release JSON's body).
checksum_from_file() {
    local text hashes
    if jq -e 'type == "object" and has("body")' "$1" >/dev/null 2>&1; then
        text=$(jq -r .body "$1")
    else
        text=$(<"$1")
    fi
    hashes=$(grep -F -- "$2" <<<"$text" | grep -oiE '\b[0-9a-f]{64}\b' | sort -u) || true
    if [[ -z $hashes ]]; then
        hashes=$(grep -oiE '\b[0-9a-f]{64}\b' <<<"$text" | sort -u) || true
    fi
    if [[ -z $hashes || $hashes == *$'\n'* ]]; then
        die "no single sha256 for $2 in the checksum file"
    fi
    printf '%s\n' "${hashes,,}"
}

# toolset_jq FILTER [--args VALUE...]: raw jq output of FILTER over the toolset.
toolset_jq() {
    command -v jq >/dev/null || die "jq is not installed (install-ubuntu-packages.sh installs it first)"
    [[ -r $TOOLSET ]] || die "toolset not found: $TOOLSET"
    jq -r "$1" "$TOOLSET" "${@:2}"
}

# toolset_get KEY...: the toolset value at that path (array items one per line); aborts if missing.
# shellcheck disable=SC2016 # $ARGS is jq's, not the shell's
toolset_get() {
    toolset_jq '(getpath($ARGS.positional)) as $v
        | if $v == null then error("missing") elif ($v | type) == "array" then $v[] else $v end' \
        --args "$@" 2>/dev/null || die "$TOOLSET has no value at $(IFS=.; printf '%s' "$*")"
}

# toolset_opt KEY...: like toolset_get, but prints nothing when the value is missing.
# shellcheck disable=SC2016 # $ARGS is jq's, not the shell's
toolset_opt() {
    toolset_jq 'getpath($ARGS.positional) // empty' --args "$@"
}

toolset_tools() {
    toolset_jq '.tools | keys[]'
}

# container_images: the toolset's container images as name<TAB>digest<TAB>tag lines (tag may be empty, so last).
container_images() {
    toolset_jq '.container_images.images[] | [.name, .digest, .tag // ""] | @tsv'
}

tool_version() {
    toolset_get tools "$1" version
}

os_release() {
    sed -nE "s/^$1=\"?([^\"]*)\"?\$/\\1/p" "$OS_RELEASE_FILE"
}

image_arch() {
    if [[ -n ${IMAGE_ARCH:-} ]]; then
        printf '%s\n' "$IMAGE_ARCH"
    else
        dpkg --print-architecture
    fi
}

# expand TEMPLATE TOOL: fill {version}, {os_version} and {codename} in a toolset template.
expand() {
    local s=$1
    if [[ $s == *'{version}'* ]]; then
        s=${s//\{version\}/$(tool_version "$2")}
    fi
    if [[ $s == *'{codename}'* ]]; then
        s=${s//\{codename\}/$(os_release VERSION_CODENAME)}
    fi
    if [[ $s == *'{os_version}'* ]]; then
        s=${s//\{os_version\}/$(os_release VERSION_ID)}
    fi
    printf '%s\n' "$s"
}

# fetch_artifact TOOL DEST: download TOOL's artifact for this architecture and verify it against the
# sha256 pinned in the toolset. A checksum is never read from the network at bake time: the origin or a
# mirror that could swap the artifact could swap its checksum file too.
fetch_artifact() {
    local tool=$1 dest=$2 arch url pinned subject
    arch=$(image_arch)
    url=$(expand "$(toolset_get tools "$tool" downloads "$arch" url)" "$tool")
    pinned=$(toolset_opt tools "$tool" downloads "$arch" sha256)
    [[ -n $pinned ]] \
        || die "$TOOLSET pins no sha256 for $tool ($arch): run images/refresh-pins.sh where the internet is reachable, review and commit"
    subject="$tool $(tool_version "$tool") ($arch, ${url##*/})"
    download "$url" "$dest"
    verify_sha256 "$dest" "$pinned" "$subject" "pinned in toolset.json"
}

# key_fingerprints FILE: the primary-key fingerprints in an OpenPGP key file, one per line.
key_fingerprints() {
    local home
    home=$(mktemp -d)
    GNUPGHOME=$home gpg --batch --quiet --with-colons --show-keys "$1" 2>/dev/null \
        | awk -F: '$1 == "pub" { want = 1; next } $1 == "fpr" && want { print $10; want = 0 }' || true
    rm -rf "$home"
}

# apt_add_repository TOOL: fetch the repository key, check it is exactly the pinned key, and write a
# deb822 source that trusts that key for this repository only (signed-by).
apt_add_repository() {
    local tool=$1 key_url expected actual tmp keyring ext=gpg url suite
    key_url=$(toolset_get tools "$tool" repository key_url)
    expected=$(toolset_get tools "$tool" repository key_fingerprint)
    url=$(expand "$(toolset_get tools "$tool" repository url)" "$tool")
    suite=$(expand "$(toolset_get tools "$tool" repository suite)" "$tool")
    tmp=$(mktemp)
    download "$key_url" "$tmp"
    actual=$(key_fingerprints "$tmp")
    if [[ $actual != "$expected" ]]; then
        die "signing key for $tool from $key_url has fingerprint(s) [${actual//$'\n'/ }], expected $expected"
    fi
    if grep -q 'BEGIN PGP PUBLIC KEY BLOCK' "$tmp"; then
        ext=asc
    fi
    keyring=$APT_KEYRINGS_DIR/$tool.$ext
    install -D -m 0644 "$tmp" "$keyring"
    rm -f "$tmp"
    record_verified key-fingerprint "$tool apt key" "$expected" "$key_url"
    mkdir -p "$APT_SOURCES_DIR"
    cat >"$APT_SOURCES_DIR/$tool.sources" <<EOF
Types: deb
URIs: $url
Suites: $suite
Components: $(toolset_get tools "$tool" repository components | paste -sd' ')
Architectures: $(image_arch)
Signed-By: $keyring
EOF
    log "apt repository for $tool: $url $suite (key $expected)"
}

# apt_pins TOOL: the tool's packages as name=version lines, versions expanded for this Ubuntu release.
# shellcheck disable=SC2016 # $ARGS is jq's, not the shell's
apt_pins() {
    local name
    while IFS= read -r name; do
        printf '%s=%s\n' "$name" "$(expand "$(toolset_get tools "$1" packages "$name")" "$1")"
    done < <(toolset_jq '.tools[$ARGS.positional[0]].packages | keys[]' --args "$1")
}

# upstream_version DEBIAN_VERSION: drop the epoch and the Debian revision (5:29.8.2-1~x -> 29.8.2).
upstream_version() {
    local v=${1#*:}
    printf '%s\n' "${v%%-*}"
}

apt_update() {
    retry apt-get update -q -o DPkg::Lock::Timeout=600
}

apt_install() {
    retry apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 "$@"
}

# apt_install_pinned TOOL: the tool's apt repository (signed, key fingerprint checked), then its
# packages at the toolset's exact versions, held there.
apt_install_pinned() {
    local pins
    apt_add_repository "$1"
    apt_update
    mapfile -t pins < <(apt_pins "$1")
    apt_install "${pins[@]}"
    apt-mark hold "${pins[@]%%=*}" >/dev/null
}

# The per-tool checks every installer ends with, shared with the in-image validation.
# shellcheck source=images/ubuntu/tests/checks.sh
. "$IMAGE_DIR/tests/checks.sh"
