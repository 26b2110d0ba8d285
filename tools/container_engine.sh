#!/usr/bin/env bash
# A Docker-API container engine for runtime's Docker-driver tests, made on this machine with no
# registry: podman (with runc) serving the Docker Engine API, a Debian base image made with
# debootstrap (tools/base_image.sh, shared with make compose-up), and the reference engine image
# built on it from the workspace's own wheels.
#
#   bash tools/container_engine.sh STATE_DIR
#
# Idempotent. Prints, on its last line, `CONTAINERS_CONF=... ENGINE_IMAGE=...`. Fails loudly (exit
# non-zero with the reason) when anything is missing and cannot be installed: the tests that need it
# fail with that reason, they are never skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE="${1:?usage: container_engine.sh STATE_DIR}"
mkdir -p "$STATE"
STATE="$(cd "$STATE" && pwd)"
BASE_IMAGE="${GALAXY_BASE_IMAGE:-localhost/galaxy-python:3.11-bookworm}"
ENGINE_IMAGE="localhost/galaxy-engine:test"

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
if ! command -v podman >/dev/null 2>&1 || ! command -v runc >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then
  echo "container_engine: installing podman, runc, debootstrap" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq podman runc debootstrap >/dev/null
fi

# Without these two lines podman cannot start a container here (no systemd, no rlimit changes).
export CONTAINERS_CONF="$STATE/containers.conf"
cat > "$CONTAINERS_CONF" <<'CONF'
[containers]
default_ulimits = []

[engine]
runtime = "runc"
CONF

# The Debian base image, made locally when missing.
bash tools/base_image.sh "$BASE_IMAGE"

# The engine and its third-party packages (pure Python) at the locked versions, for Python 3.11.
context="$STATE/engine-image"
rm -rf "$context"
mkdir -p "$context"
uv export --frozen --no-dev --no-hashes --package galaxy-engine --no-emit-workspace -o "$context/requirements.txt" -q
uv pip install --quiet --target "$context/site" --python-version 3.11 --python-platform x86_64-manylinux2014 \
  --only-binary :all: -r "$context/requirements.txt"
uv pip install --quiet --target "$context/site" --python-version 3.11 --no-deps ./engine
cat > "$context/Containerfile" <<CONTAINERFILE
FROM $BASE_IMAGE
RUN mkdir -p /var/lib/galaxy-engine && chown 10001:10001 /var/lib/galaxy-engine
COPY site /opt/galaxy-engine
ENV PYTHONPATH=/opt/galaxy-engine PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    GALAXY_ENGINE_STATE_DIR=/var/lib/galaxy-engine GALAXY_ENGINE_LISTEN=0.0.0.0:8000
USER 10001:10001
VOLUME ["/var/lib/galaxy-engine"]
EXPOSE 8000
ENTRYPOINT ["python3", "-m", "galaxy_engine"]
CONTAINERFILE
podman build -q -t "$ENGINE_IMAGE" "$context" >/dev/null
echo "CONTAINERS_CONF=$CONTAINERS_CONF ENGINE_IMAGE=$ENGINE_IMAGE"
