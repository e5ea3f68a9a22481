#!/usr/bin/env bash
# Kernel and limits as build agents need them: many file watchers and memory maps (bundlers, test
# runners, Elasticsearch-like containers), a high open-file limit for services and sessions (the agent
# runs under atd), and the docker group the scale-set extension adds user AzDevOps to.
set -euo pipefail
IMAGE_DIR=${IMAGE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# shellcheck source=images/ubuntu/scripts/lib.sh
. "$IMAGE_DIR/scripts/lib.sh"

install -D -m 0644 /dev/stdin /etc/sysctl.d/60-agent-image.conf <<'CONF'
# agent image
fs.inotify.max_user_watches = 524288
fs.inotify.max_user_instances = 1024
vm.max_map_count = 262144
CONF
sysctl --system >/dev/null

install -D -m 0644 /dev/stdin /etc/systemd/system.conf.d/60-agent-image.conf <<'CONF'
# agent image: open-file limit for services, including atd and the agent it starts
[Manager]
DefaultLimitNOFILE=65536:1048576
CONF
install -D -m 0644 /dev/stdin /etc/security/limits.d/60-agent-image.conf <<'CONF'
# agent image: open-file limit for login sessions
*    soft    nofile    65536
*    hard    nofile    1048576
CONF
systemctl daemon-reexec

install -D -m 0644 /dev/stdin /etc/systemd/journald.conf.d/60-agent-image.conf <<'CONF'
# agent image: bound the journal on long-lived agents
[Journal]
SystemMaxUse=500M
CONF

if ! getent group docker >/dev/null; then
    groupadd --system docker
fi

check system
