#!/usr/bin/env bash
# Starts the whole app: MariaDB, Redis, the mail server, migrations, the API and the worker.
# API: http://localhost:5080   API reference: http://localhost:5080/api-docs
# Dashboard: http://localhost:18888, behind a login token new at each start: the AppHost prints the login link.
# Pass --fresh to wipe the local database and Redis data first.
set -euo pipefail
cd "$(dirname "$0")"
source eng/prerequisites.sh
echo "Starting Evently: API http://localhost:5080 (reference at /api-docs). Ctrl+C stops everything."
echo "The dashboard (http://localhost:18888) asks for a token: open the 'Login to the dashboard at' link printed below once started."
exec dotnet run --project Evently.AppHost -- "$@"
