#!/usr/bin/env bash
# Runs one agentctl command for a pipeline step (pipelines/templates/agentctl.yml).
#   AGENTCTL_ARGS           the command and its options, e.g. "plan -f examples/pool.yaml"
#   AGENTCTL_JSON           optional: run with --output json and keep the envelope in this file
#   AGENTCTL_OK_EXIT_CODES  exit codes that count as success, e.g. "0 2" for plan (default "0")
# Credentials come from the environment (Azure CLI sign-in, AZDO_PAT); this script never reads them.
set -euo pipefail

read -r -a args <<<"${AGENTCTL_ARGS:?AGENTCTL_ARGS must hold the agentctl command}"
ok_codes=" ${AGENTCTL_OK_EXIT_CODES:-0} "

status=0
if [[ -n "${AGENTCTL_JSON:-}" ]]; then
  mkdir -p "$(dirname "$AGENTCTL_JSON")"
  agentctl --output json "${args[@]}" >"$AGENTCTL_JSON" || status=$?
  cat "$AGENTCTL_JSON"
else
  agentctl "${args[@]}" || status=$?
fi

if [[ "$ok_codes" != *" $status "* ]]; then
  echo "agentctl ${args[0]} failed with exit code $status" >&2
  exit "$status"
fi
echo "agentctl ${args[0]} finished with exit code $status"
