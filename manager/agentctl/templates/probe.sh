#!/usr/bin/env bash
# agentctl doctor --probe: from inside the agents' subnet, resolve each host and open a TLS
# connection to it on 443. One line per host, tab-separated:
#   host, IPv4 addresses (comma-separated, "-" for none), curl's exit status,
#   then curl's time_connect, time_appconnect and time_total in seconds.
# Uses getent, awk, sort, paste and curl (all in the agent image); sends no credential.
HOSTS=()  # agentctl sets this
set -euo pipefail

for host in "${HOSTS[@]}"; do
  addresses=$(getent ahostsv4 "$host" 2>/dev/null | awk '$2 == "STREAM" {print $1}' | sort -u | paste -sd, -) || addresses=""
  times=$(curl -sS -o /dev/null --connect-timeout 5 -m 10 \
    -w '%{time_connect}\t%{time_appconnect}\t%{time_total}' "https://${host}/" 2>/dev/null) && status=0 || status=$?
  printf '%s\t%s\t%s\t%s\n' "$host" "${addresses:--}" "$status" "${times:-$'0\t0\t0'}"
done
