#!/usr/bin/env bash
# The last step before capture: drop package caches, logs and the bake's own files, then deprovision
# (waagent removes the build user, SSH host keys and provisioning state so each VM provisions fresh).
# Apt lists stay: the scale-set extension's enable script runs the agent's installdependencies.sh (apt)
# at boot, which then finds everything installed and downloads nothing (the in-image check proves it).
set -euo pipefail
IMAGE_DIR=${IMAGE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# shellcheck source=images/ubuntu/scripts/lib.sh
. "$IMAGE_DIR/scripts/lib.sh"

apt-get autoremove -y -q --purge
apt-get clean
rm -rf "$AGENT_DIR/_diag"
if [[ $IMAGE_DIR == /tmp/* ]]; then
    rm -rf "$IMAGE_DIR"
fi
find /var/log -type f -exec truncate -s 0 {} +
journalctl --rotate >/dev/null
journalctl --vacuum-time=1s >/dev/null
rm -f /root/.bash_history
/usr/sbin/waagent -force -deprovision+user
sync
