#!/usr/bin/env bash
# Installs what the app and the tests need, only where it is missing, and says what to do where it cannot.
# Sourced by run.sh and test.sh.
set -euo pipefail

missing_packages=()
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || missing_packages+=(mariadb-server)
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing_packages+=(redis-server)

if [ ${#missing_packages[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "Evently needs ${missing_packages[*]} (MariaDB 10.11+ and Redis 7+) and this is not a Debian/Ubuntu machine:" >&2
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

# smtp4dev and dotnet-ef, pinned in .config/dotnet-tools.json.
dotnet tool restore >/dev/null
