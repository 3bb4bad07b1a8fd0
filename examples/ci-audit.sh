#!/usr/bin/env bash
# The commands of the nightly citewatch job (examples/citewatch-nightly.yml), as one script so
# they can be run, and tested, outside GitHub Actions.
#
#   examples/ci-audit.sh PATH...
#
# Settings come from citewatch.toml (or [tool.citewatch] in pyproject.toml) in the current folder.
# Writes citewatch-report.{json,html,xml}, appends the Markdown report to $GITHUB_STEP_SUMMARY,
# records "status=<exit code of the audit>" in $GITHUB_OUTPUT, and exits with that code:
# 0 nothing fails the policy, 1 link rot fails it, 2/3/4 usage, input or operational breakage.
set -u
db="${CITEWATCH_DB:-citewatch.db}"
export CITEWATCH_DB="$db"

citewatch audit "$@" --format json --output citewatch-report.json
status=$?

# The other formats come from the database the audit just wrote; they never fail the job.
citewatch report --format html --output citewatch-report.html --fail-on none || true
citewatch report --format junit --output citewatch-report.xml --fail-on none || true
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    citewatch report --format markdown --fail-on none >> "$GITHUB_STEP_SUMMARY" || true
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
    echo "status=$status" >> "$GITHUB_OUTPUT"
fi
exit "$status"
