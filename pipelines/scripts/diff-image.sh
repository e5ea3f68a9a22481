#!/usr/bin/env bash
# The nightly's software changes, for the run summary before the roll's approval: each image baked by
# this run (its software report, from the software-report-<os> artifacts) against the software report
# inside the image of the agent running this step, which is an agent of the pool being rolled and so
# runs the version the pool uses. Needs agentctl and jq on PATH.
#   NEW_REPORTS   folder the software-report-* artifacts were downloaded into (only those are read)
#   OLD_REPORT    the pool image's report (default /var/lib/agent-image/software-report.json)
#   SUMMARY_FILE  markdown written here and attached to the run's summary
set -euo pipefail

new_dir="${NEW_REPORTS:?NEW_REPORTS must name the folder of the downloaded software reports}"
old="${OLD_REPORT:-/var/lib/agent-image/software-report.json}"
summary="${SUMMARY_FILE:?SUMMARY_FILE must name the markdown file to write}"

mapfile -t reports < <(find "$new_dir" -path "${new_dir%/}/software-report-*/*" -name software-report.json | sort)
if [[ ${#reports[@]} -eq 0 ]]; then
  echo "no software-report-*/**/software-report.json under $new_dir" >&2
  exit 3
fi

field() {
  jq -r "$1 // empty" "$2" 2>/dev/null || true
}

mkdir -p "$(dirname "$summary")"
{
  echo "## Software changes against the pool's image"
  echo
  if [[ ! -f "$old" ]]; then
    echo "This agent's image has no software report ($old), so there is nothing to compare with."
  fi
  for report in "${reports[@]}"; do
    name="$(field .image.name "$report")"
    echo "### ${name:-image} $(field .image.version "$report")"
    echo
    if [[ ! -f "$old" ]]; then
      continue
    fi
    old_name="$(field .image.name "$old")"
    if [[ -n "$old_name" && "$old_name" != unknown && -n "$name" && "$name" != "$old_name" ]]; then
      echo "Not compared: the pool runs $old_name."
      echo
      continue
    fi
    echo '```text'
    agentctl image diff "$old" "$report"
    echo '```'
    echo
  done
} >"$summary"
cat "$summary"
echo "##vso[task.uploadsummary]$summary"
