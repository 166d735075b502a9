#!/usr/bin/env bash
# Installs what the app and the tests need, only where it is missing, and says what to do where it cannot.
# Sourced by run.sh and test.sh.
set -euo pipefail

missing_packages=()
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || missing_packages+=(mariadb-server)
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing_packages+=(redis-server)
# The tests only (test.sh sets prerequisites_for=tests): the admin page's browser test drives Debian's
# Chromium through its driver, at these paths.
if [ "${prerequisites_for:-app}" = tests ]; then
  [ -x /usr/bin/chromium ] || missing_packages+=(chromium)
  [ -x /usr/bin/chromedriver ] || missing_packages+=(chromium-driver)
fi

if [ ${#missing_packages[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "Evently needs ${missing_packages[*]} (MariaDB 10.11+, Redis 7+; Chromium for the tests) and this is not a Debian/Ubuntu machine:" >&2
    echo "install them with your package manager, or run with Evently__Infrastructure=containers and a container runtime." >&2
    exit 1
  fi
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo="sudo"
    else
      echo "Evently needs ${missing_packages[*]}: run 'apt-get install -y ${missing_packages[*]}' as root." >&2
      exit 1
    fi
  fi
  echo "Installing ${missing_packages[*]} ..."
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing_packages[@]}" >/dev/null
fi

# smtp4dev, dotnet-ef and kiota (the tests check their generated client with it), pinned in
# .config/dotnet-tools.json. 'dotnet tool restore' exits 0 after "Restore partially failed", so its output
# is checked too. Keep smtp4dev last in the manifest: on an
# empty NuGet cache the .NET 10 SDK (seen with 10.0.401) mixes up the commands of a tool restored after a
# RID-specific one such as smtp4dev, and dotnet-ef then fails to restore.
if ! restore_output=$(dotnet tool restore 2>&1) || grep -q "failed" <<<"$restore_output"; then
  echo "$restore_output" >&2
  echo "'dotnet tool restore' failed: the local tools (smtp4dev, dotnet-ef, kiota) are not installed." >&2
  exit 1
fi
