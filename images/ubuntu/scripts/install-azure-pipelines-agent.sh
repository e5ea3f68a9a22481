#!/usr/bin/env bash
# The Azure Pipelines agent at the toolset's pin, unpacked and NOT configured into /agent, with the
# packages its installdependencies.sh wants. At every new VM the scale-set extension still downloads an
# agent tarball into /agent (the download host must be reachable from the subnet); its enable script
# then skips only the unpack because bin/Agent.Listener exists, deletes that tarball, runs
# installdependencies.sh (which finds everything installed, so apt needs no network) and configures
# this agent as user AzDevOps. The check proves both: no leftovers in /agent, and the dependency
# script succeeds with apt unable to download.
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
