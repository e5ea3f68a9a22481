#!/usr/bin/env bash
# Apt for an agent's life, then the current updates once at bake time. No unattended upgrades and no
# automatic reboots: a reboot takes an agent offline mid-job, and the nightly image rebuild brings the
# updates instead. No background apt runs holding the dpkg lock while the scale-set extension or a
# pipeline installs packages. needrestart only lists services: restarting atd would kill the agent that
# the scale-set extension starts through `at`.
set -euo pipefail
IMAGE_DIR=${IMAGE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# shellcheck source=images/ubuntu/scripts/lib.sh
. "$IMAGE_DIR/scripts/lib.sh"

rc=0
cloud-init status --wait >/dev/null || rc=$?
case $rc in
    0) ;;
    2) log "cloud-init finished with recoverable errors; continuing" ;;
    *) die "cloud-init failed (status exit $rc)" ;;
esac

systemctl stop apt-daily.timer apt-daily-upgrade.timer
systemctl mask apt-daily.service apt-daily-upgrade.service apt-daily.timer apt-daily-upgrade.timer
cat >/etc/apt/apt.conf.d/99-agent-image.conf <<'CONF'
// agent image: no periodic apt work and no automatic reboots; the nightly image rebuild updates agents.
APT::Periodic::Update-Package-Lists "0";
APT::Periodic::Download-Upgradeable-Packages "0";
APT::Periodic::AutocleanInterval "0";
APT::Periodic::Unattended-Upgrade "0";
Unattended-Upgrade::Automatic-Reboot "false";
CONF
retry apt-get purge -y -q -o DPkg::Lock::Timeout=600 unattended-upgrades

install -d -m 0755 /etc/needrestart/conf.d
cat >/etc/needrestart/conf.d/90-agent-image.conf <<'CONF'
# agent image: list services that need a restart, never restart them (atd runs the agent).
$nrconf{restart} = 'l';
CONF

if command -v snap >/dev/null; then
    snap refresh --hold
fi

apt_update
retry apt-get dist-upgrade -y -q -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confold

check apt-config
