#!/usr/bin/env bash
# agentctl diagnose: the tails of the pipelines agent extension's logs and of the agent's _diag
# logs on this VM, each section cut to its last BYTES bytes (Run Command returns at most 4096
# bytes of output). Reads files only; sends nothing anywhere.
BYTES=1800  # agentctl sets this
set -euo pipefail

section() {
  local title=$1 text
  shift
  text=$(tail -q -n 60 "$@" 2>&1) || true
  if ((${#text} > BYTES)); then
    text=${text: -BYTES}
  fi
  printf '== %s\n%s\n' "$title" "$text"
}

section extension /var/log/azure/Microsoft.VisualStudio.Services.TeamServicesAgentLinux/*.log
section agent /agent/_diag/Agent_*.log
