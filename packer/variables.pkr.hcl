# Inputs of the agent image build. The Ubuntu release comes from a var file (ubuntu-22.04.pkrvars.hcl,
# ubuntu-24.04.pkrvars.hcl); the Azure side (location, gallery, network) from PKR_VAR_* or another var file.

variable "ubuntu_version" {
  type        = string
  description = "Ubuntu release of the image: 22.04 or 24.04."
  validation {
    condition     = contains(["22.04", "24.04"], var.ubuntu_version)
    error_message = "The ubuntu_version must be 22.04 or 24.04."
  }
}

variable "image_publisher" {
  type        = string
  default     = "Canonical"
  description = "Marketplace publisher of the base image."
}

variable "image_offer" {
  type        = string
  description = "Marketplace offer of the base image (Generation 2)."
}

variable "image_sku" {
  type        = string
  description = "Marketplace SKU of the base image (Generation 2)."
}

variable "use_azure_cli_auth" {
  type        = bool
  default     = true
  description = "Authenticate with the Azure CLI session; false uses the build host's managed identity."
}

variable "managed_identity_client_id" {
  type        = string
  default     = ""
  description = "Client id of a user-assigned identity of the build host; empty uses its system-assigned identity."
}

variable "subscription_id" {
  type        = string
  default     = ""
  description = "Subscription of the build; empty takes the Azure CLI's or the managed identity's subscription."
}

variable "location" {
  type        = string
  description = "Azure region of the build VM and primary region of the image version."
}

variable "build_resource_group_name" {
  type        = string
  default     = ""
  description = "Existing resource group for the build VM (it must be in location); empty lets Packer create a temporary one."
}

variable "vm_size" {
  type        = string
  default     = "Standard_D4s_v5"
  description = "Size of the build VM."
}

variable "virtual_network_name" {
  type        = string
  default     = ""
  description = "Existing VNet to build in, without a public IP; empty builds in a temporary VNet with a public IP."
}

variable "virtual_network_subnet_name" {
  type        = string
  default     = ""
  description = "Subnet of virtual_network_name for the build VM."
}

variable "virtual_network_resource_group_name" {
  type        = string
  default     = ""
  description = "Resource group of virtual_network_name."
}

variable "download_mirror_url" {
  type        = string
  default     = ""
  description = "Serve every tool download from <mirror>/<host>/<path> (an https artifact proxy for private builds); the sha256 pins of the toolset still apply, a mirror never supplies one."
  validation {
    condition     = var.download_mirror_url == "" || can(regex("^https://[^[:space:]]+$", var.download_mirror_url))
    error_message = "The download_mirror_url must be an https:// URL, or empty."
  }
}

variable "gallery_subscription_id" {
  type        = string
  default     = ""
  description = "Subscription of the Azure Compute Gallery; empty means the build subscription."
}

variable "gallery_resource_group" {
  type        = string
  description = "Resource group of the Azure Compute Gallery."
}

variable "gallery_name" {
  type        = string
  description = "Azure Compute Gallery the image version is published to."
}

variable "gallery_image_name" {
  type        = string
  description = "Image definition in the gallery (Linux, generalized, Hyper-V generation 2)."
}

variable "gallery_storage_account_type" {
  type        = string
  default     = "Standard_LRS"
  description = "Storage of the image version replicas: Standard_LRS, Standard_ZRS or Premium_LRS."
}

variable "replication_regions" {
  type        = list(string)
  default     = []
  description = "Regions besides location that get replicas of the image version."
}

variable "replica_count" {
  type        = number
  default     = 1
  description = "Replicas of the image version in each region."
}

variable "exclude_from_latest" {
  type        = bool
  default     = false
  description = "Keep this version out of the gallery's default; pools then use it only when pointed at it."
}

variable "image_version" {
  type        = string
  default     = ""
  description = "Gallery image version YYYY.MMDD.N (images/build.sh computes it); empty means today's date with N = 1."
  validation {
    condition     = var.image_version == "" || can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.image_version))
    error_message = "The image_version must be Major.Minor.Patch, e.g. 2026.1129.1."
  }
}

variable "artifacts_dir" {
  type        = string
  default     = "artifacts/image"
  description = "Local folder the software report is downloaded into."
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Tags for the build resources."
}

locals {
  # Gallery versions are three 32-bit integers: the month-day part drops its leading zero (2026.105.1).
  image_version = var.image_version != "" ? var.image_version : format("%s.%d.1", formatdate("YYYY", timestamp()), parseint(formatdate("MMDD", timestamp()), 10))
  image_dir     = "/tmp/agent-image"
  report_dir    = "${var.artifacts_dir}/${var.gallery_image_name}/${local.image_version}"
}
