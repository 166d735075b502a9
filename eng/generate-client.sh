#!/usr/bin/env bash
# Regenerates the typed C# client that the tests use (Evently.Tests/Client) from the API's OpenAPI document:
# builds the API, starts it alone on a free loopback port (serving the document needs neither MariaDB nor
# Redis, so placeholders stand in for their addresses), saves /openapi/v1.json as
# Evently.Tests/Client/openapi.json, stops it, and runs Kiota (the local tool in .config/dotnet-tools.json)
# on it into Evently.Tests/Client/Generated.
#
#   eng/generate-client.sh               the whole way, after a change to the API's contract
#   eng/generate-client.sh --kiota DIR   only Kiota: DIR/openapi.json -> DIR/Generated (GeneratedClientTests
#                                        uses this to check that the checked-in client is what Kiota makes)
set -euo pipefail
cd "$(dirname "$0")/.."

kiota() {
  local dir=$1
  # Offline: no update check, no hints, no telemetry.
  KIOTA_OFFLINE_ENABLED=true KIOTA_TUTORIAL_ENABLED=false KIOTA_CLI_TELEMETRY_OPTOUT=true \
    dotnet kiota generate --language CSharp --openapi "$dir/openapi.json" --output "$dir/Generated" \
      --class-name EventlyClient --namespace-name Evently.Tests.Client --exclude-backward-compatible \
      --clean-output --log-level Warning
}

if [ "${1:-}" = --kiota ]; then
  kiota "$2"
  exit 0
fi

command -v curl >/dev/null || { echo "generate-client.sh needs curl." >&2; exit 1; }
dotnet tool restore >/dev/null
dotnet build Evently.ApiService -nologo -v q

log=$(mktemp)
api_pid=""
trap '[ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null; rm -f "$log"' EXIT
(
  cd Evently.ApiService
  ConnectionStrings__evently="Server=127.0.0.1;Port=9;Database=none;User=none;Password=none" \
  Evently__Database__ServerVersion=10.11.0-mariadb \
  ConnectionStrings__redis="127.0.0.1:9" \
  Evently__Jwt__SigningKey="generate-client-placeholder-signing-key-0123456789" \
  exec dotnet bin/Debug/net10.0/Evently.ApiService.dll --urls http://127.0.0.1:0
) >"$log" 2>&1 &
api_pid=$!

url=""
for _ in $(seq 1 120); do
  url=$(grep -oE 'Now listening on: http://127\.0\.0\.1:[0-9]+' "$log" | head -1 | cut -d' ' -f4 || true)
  [ -n "$url" ] && break
  kill -0 "$api_pid" 2>/dev/null || { cat "$log" >&2; echo "The API stopped before it served its document." >&2; exit 1; }
  sleep 0.5
done
[ -n "$url" ] || { cat "$log" >&2; echo "The API did not start within a minute." >&2; exit 1; }

curl -sSf "$url/openapi/v1.json" -o Evently.Tests/Client/openapi.json
kill "$api_pid"; wait "$api_pid" 2>/dev/null || true; api_pid=""

kiota Evently.Tests/Client
echo "Regenerated Evently.Tests/Client from $url/openapi/v1.json."
