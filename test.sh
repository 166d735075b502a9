#!/usr/bin/env bash
# Runs every test: fast unit tests and the end-to-end tests, which start the whole app once.
set -euo pipefail
cd "$(dirname "$0")"
prerequisites_for=tests
source eng/prerequisites.sh

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test Evently.sln "$@" 2>&1 | tee "$log" || status=$?

# One closing line in the plain 'N passed, N failed' form, summed over the test assemblies. A run that
# failed without a failed test (build error, crashed or aborted test host) must not read as all well:
# its line starts with 'aborted:' and counts the run itself as one failure.
awk -v status="$status" '
     /(Passed|Failed)!/ {
       for (i = 1; i <= NF; i++) {
         if ($i == "Failed:") failed += $(i+1); if ($i == "Passed:") passed += $(i+1); if ($i == "Skipped:") skipped += $(i+1)
       }
     }
     /Test Run Aborted|test host process crashed|The active test run was aborted/ { aborted = 1 }
     END {
       if (aborted || (status != 0 && failed == 0)) {
         print "The test run did not complete: see the output above (build error, or a crashed test host)."
         printf "aborted: %d passed, %d failed, %d skipped\n", passed, failed + 1, skipped
       } else {
         printf "tests: %d passed, %d failed, %d skipped\n", passed, failed, skipped
       }
     }' FS='[ ,]+' "$log"
exit $status
