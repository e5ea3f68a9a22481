# One build for every Ubuntu release: the var file picks the base image and the gallery image definition.
build {
  name    = "agent-image"
  sources = ["source.azure-arm.ubuntu"]

  provisioner "shell" {
    inline = ["mkdir -p ${local.image_dir}"]
  }

  provisioner "file" {
    source      = "${path.root}/../images/ubuntu/"
    destination = local.image_dir
  }

  provisioner "shell" {
    execute_command  = "chmod +x {{ .Path }}; {{ .Vars }} sudo -E bash '{{ .Path }}'"
    environment_vars = ["IMAGE_DIR=${local.image_dir}", "IMAGE_VERSION=${local.image_version}", "IMAGE_NAME=${var.gallery_image_name}", "IMAGE_MIRROR_URL=${var.download_mirror_url}"]
    scripts = [
      "${path.root}/../images/ubuntu/scripts/configure-apt.sh",
      "${path.root}/../images/ubuntu/scripts/install-ubuntu-packages.sh",
      "${path.root}/../images/ubuntu/scripts/install-docker.sh",
      "${path.root}/../images/ubuntu/scripts/install-azure-cli.sh",
      "${path.root}/../images/ubuntu/scripts/install-packer.sh",
      "${path.root}/../images/ubuntu/scripts/install-kubectl.sh",
      "${path.root}/../images/ubuntu/scripts/install-kubelogin.sh",
      "${path.root}/../images/ubuntu/scripts/install-helm.sh",
      "${path.root}/../images/ubuntu/scripts/install-azure-pipelines-agent.sh",
      "${path.root}/../images/ubuntu/scripts/install-container-images.sh",
      "${path.root}/../images/ubuntu/scripts/configure-ssh.sh",
      "${path.root}/../images/ubuntu/scripts/configure-system.sh",
      "${path.root}/../images/ubuntu/tests/validate.sh",
      "${path.root}/../images/ubuntu/tests/software-report.sh",
    ]
  }

  provisioner "file" {
    direction   = "download"
    source      = "/var/lib/agent-image/software-report.json"
    destination = "${local.report_dir}/software-report.json"
  }

  provisioner "file" {
    direction   = "download"
    source      = "/var/lib/agent-image/software-report.md"
    destination = "${local.report_dir}/software-report.md"
  }

  provisioner "shell" {
    execute_command  = "chmod +x {{ .Path }}; {{ .Vars }} sudo -E bash '{{ .Path }}'"
    environment_vars = ["IMAGE_DIR=${local.image_dir}"]
    script           = "${path.root}/../images/ubuntu/scripts/cleanup.sh"
  }
}
