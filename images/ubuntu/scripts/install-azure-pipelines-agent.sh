#!/usr/bin/env bash
# The Azure Pipelines agent, unpacked and NOT configured into /agent, with the libraries it needs. The
# scale-set extension finds /agent/bin/Agent.Listener and skips its own download and unpack; it then
# configures the agent as user AzDevOps at boot.
set -euo pipefail
IMAGE_DIR=${IMAGE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# shellcheck source=images/ubuntu/scripts/lib.sh
. "$IMAGE_DIR/scripts/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fetch_artifact azure-pipelines-agent "$work/agent.tar.gz"
install -d -m 0755 "$AGENT_DIR"
tar -xzf "$work/agent.tar.gz" -C "$AGENT_DIR"
retry "$AGENT_DIR/bin/installdependencies.sh"

check azure-pipelines-agent
