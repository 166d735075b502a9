#!/usr/bin/env bash
# Starts the whole app: MariaDB, Redis, the mail server, migrations, the API and the worker.
# Dashboard: http://localhost:18888   API: http://localhost:5080   API reference: http://localhost:5080/api-docs
# Pass --fresh to wipe the local database and Redis data first.
set -euo pipefail
cd "$(dirname "$0")"
source eng/prerequisites.sh
echo "Starting Evently: dashboard http://localhost:18888, API http://localhost:5080 (reference at /api-docs). Ctrl+C stops everything."
exec dotnet run --project Evently.AppHost -- "$@"
