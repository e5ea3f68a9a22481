# Packer and plugin versions. The azure plugin is pinned exactly: tests/image checks every attribute of the
# templates against this version's attribute list.
packer {
  required_version = ">= 1.10.0"
  required_plugins {
    azure = {
      source  = "github.com/hashicorp/azure"
      version = "= 2.6.3"
    }
  }
}
