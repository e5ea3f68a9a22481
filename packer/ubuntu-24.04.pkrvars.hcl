ubuntu_version     = "24.04"
image_offer        = "ubuntu-24_04-lts"
image_sku          = "server"
gallery_image_name = "ubuntu-24.04-agent"
