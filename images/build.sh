#!/usr/bin/env bash
# Bake the agent image: `images/build.sh VAR_FILE [MORE_VAR_FILES...]` (what `make image` runs).
# Checks Packer (>= 1.10) and Azure credentials first, picks the gallery image version, then runs
# packer init, validate and build on packer/ and checks that the software report was downloaded.
#
# Inputs besides the var files: PKR_VAR_<name> for any Packer variable (location, gallery_name, ...);
# IMAGE_VERSION to force a version; SOURCE_DATE_EPOCH to fix the date of the default version;
# ARTIFACTS_DIR (default artifacts/image); PACKER (default packer); AZURE_IMDS_ENDPOINT (managed identity).
#
# Version: YYYY.MMDD.N with the month-day without its leading zero (gallery versions are integers).
# N is one more than the highest N already in the gallery for that day when the Azure CLI can list the
# gallery's versions, else 1; a rerun on the same day without the CLI then needs IMAGE_VERSION.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
packer=${PACKER:-packer}
artifacts_dir=${ARTIFACTS_DIR:-$repo/artifacts/image}
imds=${AZURE_IMDS_ENDPOINT:-http://169.254.169.254}
min_packer=1.10.0

die() {
    printf 'build.sh: %s\n' "$*" >&2
    exit 1
}

say() {
    printf 'build.sh: %s\n' "$*" >&2
}

[[ $# -ge 1 ]] || die "usage: images/build.sh VAR_FILE [MORE_VAR_FILES...] (e.g. packer/ubuntu-24.04.pkrvars.hcl)"
var_files=()
for f in "$@"; do
    [[ -f $f ]] || die "var file not found: $f"
    var_files+=("$(cd "$(dirname "$f")" && pwd)/$(basename "$f")")
done

# var_value NAME: a Packer variable as this build will see it: PKR_VAR_NAME, else the last var file
# that sets it (simple `name = "value"` or `name = true` lines), else empty.
var_value() {
    local env_name="PKR_VAR_$1" f line value=""
    if [[ -n ${!env_name:-} ]]; then
        printf '%s\n' "${!env_name}"
        return
    fi
    for f in "${var_files[@]}"; do
        line=$(grep -E "^[[:space:]]*$1[[:space:]]*=" "$f" | tail -n 1) || true
        if [[ -n $line ]]; then
            value=$(sed -E 's/^[^=]*=[[:space:]]*"?([^"]*)"?[[:space:]]*$/\1/' <<<"$line")
        fi
    done
    printf '%s\n' "$value"
}

check_packer() {
    local version
    command -v "$packer" >/dev/null \
        || die "packer is not installed (need $min_packer or newer: https://developer.hashicorp.com/packer/install)"
    version=$("$packer" version | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | sed -n 1p)
    [[ -n $version ]] || die "cannot tell the version of $packer"
    if [[ $(printf '%s\n%s\n' "$min_packer" "$version" | sort -V | sed -n 1p) != "$min_packer" ]]; then
        die "packer $version is too old: the templates need $min_packer or newer (Debian's package lags;" \
            "install HashiCorp's from https://developer.hashicorp.com/packer/install, then run again," \
            "or point PACKER at it)"
    fi
}

check_credentials() {
    local url
    if [[ $(var_value use_azure_cli_auth) != false ]]; then
        command -v az >/dev/null \
            || die "the Azure CLI is not installed; install it and run 'az login', or set PKR_VAR_use_azure_cli_auth=false to use this machine's managed identity"
        az account show --output none 2>/dev/null \
            || die "the Azure CLI is not logged in: run 'az login' (or set PKR_VAR_use_azure_cli_auth=false to use this machine's managed identity)"
        return
    fi
    url="$imds/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/"
    if [[ -n $(var_value managed_identity_client_id) ]]; then
        url+="&client_id=$(var_value managed_identity_client_id)"
    fi
    curl --silent --fail --max-time 10 --header Metadata:true --output /dev/null "$url" \
        || die "no managed identity token from the instance metadata service: run on an Azure VM whose identity may build in the gallery, or use the Azure CLI (PKR_VAR_use_azure_cli_auth=true)"
}

# next_patch PREFIX: one more than the highest PREFIX.N in the gallery, or 1 when it cannot be listed.
next_patch() {
    local rg gallery image names max=0 name n
    rg=$(var_value gallery_resource_group)
    gallery=$(var_value gallery_name)
    image=$(var_value gallery_image_name)
    if [[ $(var_value use_azure_cli_auth) == false || -z $rg || -z $gallery || -z $image ]]; then
        echo 1
        return
    fi
    if ! names=$(az sig image-version list --resource-group "$rg" --gallery-name "$gallery" \
        --gallery-image-definition "$image" --query '[].name' --output tsv 2>/dev/null); then
        say "cannot list versions of $gallery/$image; using N = 1"
        echo 1
        return
    fi
    for name in $names; do
        if [[ $name == "$1".* ]]; then
            n=${name##*.}
            if [[ $n =~ ^[0-9]+$ && $n -gt $max ]]; then
                max=$n
            fi
        fi
    done
    echo $((max + 1))
}

image_version() {
    local day prefix
    if [[ -n ${IMAGE_VERSION:-} ]]; then
        [[ $IMAGE_VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] \
            || die "IMAGE_VERSION must be Major.Minor.Patch (e.g. 2026.1129.1), not '$IMAGE_VERSION'"
        echo "$IMAGE_VERSION"
        return
    fi
    day=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y%m%d)
    prefix="${day:0:4}.$((10#${day:4:4}))"
    echo "$prefix.$(next_patch "$prefix")"
}

check_packer
check_credentials
version=$(image_version)
image_name=$(var_value gallery_image_name)
say "building ${image_name:-image} version $version"

args=()
for f in "${var_files[@]}"; do
    args+=("-var-file=$f")
done
args+=(-var "image_version=$version" -var "artifacts_dir=$artifacts_dir")

"$packer" init "$repo/packer"
"$packer" validate "${args[@]}" "$repo/packer"
"$packer" build "${args[@]}" "$repo/packer"

report=$artifacts_dir/$image_name/$version/software-report.json
[[ -s $report ]] || die "the build finished but its software report is missing: $report"
say "image version $version published; software report: $report"
