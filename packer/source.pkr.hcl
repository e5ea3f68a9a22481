# The build VM and where its image goes: straight to an Azure Compute Gallery image version.
source "azure-arm" "ubuntu" {
  use_azure_cli_auth = var.use_azure_cli_auth
  client_id          = var.managed_identity_client_id
  subscription_id    = var.subscription_id

  os_type         = "Linux"
  image_publisher = var.image_publisher
  image_offer     = var.image_offer
  image_sku       = var.image_sku
  vm_size         = var.vm_size
  communicator    = "ssh"

  # The plugin takes either a location (and creates a temporary resource group) or an existing group.
  location                  = var.build_resource_group_name == "" ? var.location : ""
  build_resource_group_name = var.build_resource_group_name

  # Optional build inside an existing private subnet; the build VM then gets no public IP.
  virtual_network_name                   = var.virtual_network_name
  virtual_network_subnet_name            = var.virtual_network_subnet_name
  virtual_network_resource_group_name    = var.virtual_network_resource_group_name
  private_virtual_network_with_public_ip = false

  shared_image_gallery_destination {
    subscription         = var.gallery_subscription_id
    resource_group       = var.gallery_resource_group
    gallery_name         = var.gallery_name
    image_name           = var.gallery_image_name
    image_version        = local.image_version
    storage_account_type = var.gallery_storage_account_type

    target_region {
      name     = var.location
      replicas = var.replica_count
    }

    dynamic "target_region" {
      for_each = var.replication_regions
      content {
        name     = target_region.value
        replicas = var.replica_count
      }
    }
  }
  shared_gallery_image_version_exclude_from_latest = var.exclude_from_latest

  azure_tags = merge(var.tags, {
    "agent-image-version" = local.image_version
    "ubuntu-version"      = var.ubuntu_version
  })
}
