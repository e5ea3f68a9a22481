ubuntu_version     = "22.04"
image_offer        = "0001-com-ubuntu-server-jammy"
image_sku          = "22_04-lts-gen2"
gallery_image_name = "ubuntu-22.04-agent"
