#!/usr/bin/env bash
# Makes the nightly's image version the gallery's latest once the pools are rolled onto it: the bake
# publishes it with excludeFromLatest, so pools that follow latest take it only after approval.
#   IMAGE_VERSION           the version to publish, e.g. 2026.1129.1
#   IMAGES                  space-separated Ubuntu images (packer/<name>.pkrvars.hcl names the definition);
#                           every name is checked before anything is published
#   GALLERY_RESOURCE_GROUP  resource group of the gallery
#   GALLERY_NAME            the gallery
set -euo pipefail

version="${IMAGE_VERSION:?IMAGE_VERSION must name the image version}"
images="${IMAGES:?IMAGES must list the baked images}"
rg="${GALLERY_RESOURCE_GROUP:?GALLERY_RESOURCE_GROUP must name the gallery resource group}"
gallery="${GALLERY_NAME:?GALLERY_NAME must name the gallery}"

read -r -a names <<<"$images"
for image in "${names[@]}"; do
  if [[ ! "$image" =~ ^[A-Za-z0-9_-][A-Za-z0-9._-]*$ || "$image" == *..* ]]; then
    echo "IMAGES holds '$image': each image is the name of a var file in packer/ (e.g. ubuntu-24.04)" >&2
    exit 3
  fi
  if [[ ! -f "packer/$image.pkrvars.hcl" ]]; then
    echo "IMAGES holds '$image', but packer/$image.pkrvars.hcl does not exist" >&2
    exit 3
  fi
done

for image in "${names[@]}"; do
  var_file="packer/$image.pkrvars.hcl"
  definition="$(sed -nE 's/^[[:space:]]*gallery_image_name[[:space:]]*=[[:space:]]*"([^"]+)".*/\1/p' "$var_file")"
  if [[ -z "$definition" ]]; then
    echo "$var_file sets no gallery_image_name" >&2
    exit 3
  fi
  echo "publishing $gallery/$definition $version as latest"
  az sig image-version update --resource-group "$rg" --gallery-name "$gallery" \
    --gallery-image-definition "$definition" --gallery-image-version "$version" \
    --set publishingProfile.excludeFromLatest=false --output none
done
