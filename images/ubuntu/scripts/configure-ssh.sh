#!/usr/bin/env bash
# SSH with keys only. The drop-in is read before the cloud image's and the VM agent's settings, and sshd
# keeps the first value it reads, so a scale set created with a password still cannot log in with it.
set -euo pipefail
IMAGE_DIR=${IMAGE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# shellcheck source=images/ubuntu/scripts/lib.sh
. "$IMAGE_DIR/scripts/lib.sh"

grep -qE '^Include /etc/ssh/sshd_config\.d/\*\.conf' /etc/ssh/sshd_config \
    || die "/etc/ssh/sshd_config does not include sshd_config.d"
install -D -m 0644 /dev/stdin /etc/ssh/sshd_config.d/10-agent-image.conf <<'CONF'
# agent image: key authentication only
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitEmptyPasswords no
PermitRootLogin no
CONF
install -d -m 0755 /run/sshd
sshd -t

check ssh
