#!/usr/bin/env bash
# Runs every test: fast unit tests and the end-to-end tests, which start the whole app once.
set -euo pipefail
cd "$(dirname "$0")"
source eng/prerequisites.sh

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test Evently.sln "$@" 2>&1 | tee "$log" || status=$?

# One closing line in the plain 'N passed, N failed' form, summed over the test assemblies.
awk '/(Passed|Failed)!/ {
       for (i = 1; i <= NF; i++) {
         if ($i == "Failed:") failed += $(i+1); if ($i == "Passed:") passed += $(i+1); if ($i == "Skipped:") skipped += $(i+1)
       }
     }
     END { printf "tests: %d passed, %d failed, %d skipped\n", passed, failed, skipped }' FS='[ ,]+' "$log"
exit $status
