#!/usr/bin/env bash
# The container stack of docker-compose.yml on this host, whatever it has (docs/deploy.md):
#
#   bash tools/compose.sh up      # install what is missing, build every image, start, wait for /readyz
#   bash tools/compose.sh test    # the suite tests against the running stack (extra args go to pytest)
#   bash tools/compose.sh down    # stop and remove the containers (and the game engines runtime started)
#
# Engine: Docker with its compose plugin when its daemon answers; otherwise podman (with runc and
# podman-compose, installed from Debian when missing) and podman's Docker-API socket for runtime.
# Images: the third-party ones (postgres, kafka, mailpit) and python:3.11-slim are pulled when a
# registry answers; otherwise the base image is made locally (tools/base_image.sh) and the
# stand-ins of docker-compose.local.yml are built. Secrets and host ports are chosen once and kept
# in $GALAXY_COMPOSE_STATE (default .galaxy-compose/, git-ignored): `env` in there; variables
# already exported win.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
STATE="${GALAXY_COMPOSE_STATE:-$ROOT/.galaxy-compose}"
PROJECT="${GALAXY_COMPOSE_PROJECT:-galaxy}"
READY_TIMEOUT="${GALAXY_COMPOSE_READY_TIMEOUT:-600}"
SERVICES=(auth account lobby runtime mail notify geo)
mkdir -p "$STATE"
STATE="$(cd "$STATE" && pwd)"
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

say() { echo "compose: $*" >&2; }

apt_install() {
  say "installing $*"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

pick_engine() {
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
    ENGINE=docker
    COMPOSE=(docker compose -p "$PROJECT")
    BUILD_NET=()
    ENGINE_STORE=()
    return
  fi
  ENGINE=podman
  local missing=()
  command -v podman >/dev/null 2>&1 || missing+=(podman)
  command -v runc >/dev/null 2>&1 || missing+=(runc)
  command -v podman-compose >/dev/null 2>&1 || missing+=(podman-compose)
  if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; fi
  # Without these two settings podman cannot start a container on a host without systemd that
  # forbids changing rlimits (INFRA: the same file as tools/container_engine.sh writes).
  export CONTAINERS_CONF="$STATE/containers.conf"
  printf '[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n' > "$CONTAINERS_CONF"
  COMPOSE=(podman-compose -p "$PROJECT")
  ENGINE_STORE=(--root "$STATE/engines/storage" --runroot "$STATE/engines/run")
  # Builds reach the package index through the host's network (no bridge needed).
  BUILD_NET=(--network host --format docker)
  # podman's short-name resolution is not applied through the Docker API runtime uses.
  export GALAXY_IMAGE_PREFIX="${GALAXY_IMAGE_PREFIX:-localhost/galaxy}"
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
secret() { python3 -c 'import secrets; print(secrets.token_urlsafe(36))'; }

load_env() {
  if [ ! -s "$STATE/env" ]; then
    umask 077
    {
      echo "POSTGRES_PASSWORD=${POSTGRES_PASSWORD:-$(secret)}"
      echo "GALAXY_ADMIN_USERNAME=${GALAXY_ADMIN_USERNAME:-admin}"
      echo "GALAXY_ADMIN_PASSWORD=${GALAXY_ADMIN_PASSWORD:-$(secret)}"
      echo "GALAXY_AUTH_CODE_PEPPER=${GALAXY_AUTH_CODE_PEPPER:-$(secret)}"
      echo "GALAXY_HTTP_PORT=${GALAXY_HTTP_PORT:-$(free_port)}"
      echo "GALAXY_PUSH_PORT=${GALAXY_PUSH_PORT:-$(free_port)}"
      echo "GALAXY_MAILPIT_UI_PORT=${GALAXY_MAILPIT_UI_PORT:-$(free_port)}"
      echo "GALAXY_POSTGRES_PORT=${GALAXY_POSTGRES_PORT:-$(free_port)}"
    } > "$STATE/env"
    umask 022
  fi
  local line
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    local name="${line%%=*}"
    # what the caller exported wins over the stored value
    if [ -z "${!name:-}" ]; then export "${line?}"; fi
  done < "$STATE/env"
}

compose_files() {
  FILES=(-f docker-compose.yml)
  if [ "$(cat "$STATE/images" 2>/dev/null)" = "local" ]; then FILES+=(-f docker-compose.local.yml); fi
  FILES+=(-f docker-compose.test.yml)
}

# pulls the third-party images, or records that the local stand-ins are needed
choose_images() {
  if [ -n "${GALAXY_COMPOSE_IMAGES:-}" ]; then echo "$GALAXY_COMPOSE_IMAGES" > "$STATE/images"; fi
  if [ -s "$STATE/images" ]; then return; fi
  local mode=pulled image
  for image in python:3.11-slim postgres:16 apache/kafka:3.9.0 axllent/mailpit:v1.21.0; do
    if ! timeout 120 "$ENGINE" pull -q "docker.io/library/${image}" >/dev/null 2>&1 \
        && ! timeout 120 "$ENGINE" pull -q "docker.io/${image}" >/dev/null 2>&1; then
      say "cannot pull $image: building local stand-ins (docker-compose.local.yml)"
      mode=local
      break
    fi
  done
  echo "$mode" > "$STATE/images"
}

build_images() {
  local python_image=python:3.11-slim
  if [ "$(cat "$STATE/images")" = "local" ]; then
    python_image="${GALAXY_BASE_IMAGE:-localhost/galaxy-python:3.11-bookworm}"
    bash tools/base_image.sh "$python_image"
    local tansu
    tansu="$(uv run --frozen python -c 'from galaxy_devstack.broker import tansu_binary; print(tansu_binary())')"
    cp "$tansu" tools/compose/kafka/tansu
    for standin in postgres kafka mailcatcher; do
      local name="$standin"; [ "$standin" = mailcatcher ] && name=mailpit
      local tag
      tag="$(sed -n "/^  $name:/,/^  [a-z]/s/^    image: //p" docker-compose.local.yml | head -1)"
      say "building $tag"
      "$ENGINE" build -q "${BUILD_NET[@]}" --build-arg BASE_IMAGE="$python_image" -t "$tag" "tools/compose/$standin" >/dev/null
    done
  fi
  local prefix="${GALAXY_IMAGE_PREFIX:-galaxy}" tag="${GALAXY_IMAGE_TAG:-dev}" port=50051 s
  # One build at a time: they are CPU-heavy and the layers before SERVICE are shared.
  for s in "${SERVICES[@]}"; do
    say "building $prefix/galaxy-$s:$tag"
    "$ENGINE" build -q "${BUILD_NET[@]}" -f services/Dockerfile --build-arg PYTHON_IMAGE="$python_image" \
      --build-arg SERVICE="$s" --build-arg GRPC_PORT="$port" -t "$prefix/galaxy-$s:$tag" . >/dev/null
    port=$((port + 1))
  done
  say "building $prefix/galaxy-edge:$tag and $prefix/galaxy-engine:$tag"
  "$ENGINE" build -q "${BUILD_NET[@]}" -f edge-backend/Dockerfile --build-arg PYTHON_IMAGE="$python_image" \
    -t "$prefix/galaxy-edge:$tag" . >/dev/null
  "$ENGINE" build -q "${BUILD_NET[@]}" -f engine/Dockerfile --build-arg PYTHON_IMAGE="$python_image" \
    -t "$prefix/galaxy-engine:$tag" . >/dev/null
}

# Every image built above against the goals of docs/deploy.md "Image sizes", before anything starts:
# it is at most $GALAXY_IMAGE_SIZE_GOAL_MB (on the local base, where the figures were
# measured; a pulled python:3.11-slim base is reported, not held to it), its Python runs at
# optimisation level 2, imports the service, and finds the byte-code of every module it loaded
# (none compiled at start, on a read-only root filesystem as in Kubernetes).
check_images() {
  local prefix="${GALAXY_IMAGE_PREFIX:-galaxy}" tag="${GALAXY_IMAGE_TAG:-dev}" goal="${GALAXY_IMAGE_SIZE_GOAL_MB:-200}"
  local held=0 failed=0 s image bytes out
  [ "$(cat "$STATE/images")" = "local" ] && held=1
  # (no `assert` in the probe: level 2 drops them)
  local probe='
import importlib, os, sys
module = sys.argv[1]
importlib.import_module(module + ".__main__")
if sys.flags.optimize != 2:
    sys.exit(f"optimisation level {sys.flags.optimize}, not 2")
compiled = [n for n, m in list(sys.modules.items())
            if getattr(getattr(m, "__spec__", None), "cached", None) and not os.path.exists(m.__spec__.cached)]
if compiled:
    sys.exit(f"compiled at start (no byte-code in the image): {compiled}")
'
  : > "$STATE/image-sizes"
  for s in "${SERVICES[@]}" edge engine; do
    image="$prefix/galaxy-$s:$tag"
    bytes="$("$ENGINE" image inspect --format '{{.Size}}' "$image")"
    echo "galaxy-$s $((bytes / 1000000))" >> "$STATE/image-sizes"
    if ! out="$("$ENGINE" run --rm --read-only --no-healthcheck --entrypoint python "$image" -c "$probe" "galaxy_$s" 2>&1)"; then
      say "$image does not run at optimisation level 2: $out"
      failed=1
    fi
    if [ "$held" = 1 ] && [ "$bytes" -gt $((goal * 1000000)) ]; then
      say "$image is $((bytes / 1000000)) MB, over the goal of $goal MB (docs/deploy.md \"Image sizes\")"
      failed=1
    fi
  done
  say "image sizes (MB): $(tr '\n' ' ' < "$STATE/image-sizes")(goal ≤ $goal$([ "$held" = 1 ] || echo ', not held on a pulled base'))"
  [ "$failed" = 0 ] || exit 1
}

# runtime's container engine: Docker's socket, or podman's Docker-API service on a socket of ours
engine_socket() {
  if [ "$ENGINE" = docker ]; then
    export GALAXY_CONTAINER_SOCKET="${GALAXY_CONTAINER_SOCKET:-/var/run/docker.sock}"
  else
    export GALAXY_CONTAINER_SOCKET="${GALAXY_CONTAINER_SOCKET:-$STATE/podman.sock}"
    if [ "$GALAXY_CONTAINER_SOCKET" = "$STATE/podman.sock" ] && ! [ -S "$GALAXY_CONTAINER_SOCKET" ]; then
      # A store of its own: runtime lists and removes every engine container it sees, so it must
      # not see the engines of anything else on this host. It holds just the engine image.
      local prefix="${GALAXY_IMAGE_PREFIX:-galaxy}" tag="${GALAXY_IMAGE_TAG:-dev}"
      podman save "$prefix/galaxy-engine:$tag" | podman "${ENGINE_STORE[@]}" load -q >/dev/null
      setsid podman "${ENGINE_STORE[@]}" system service --time=0 "unix://$GALAXY_CONTAINER_SOCKET" \
        >"$STATE/podman-service.log" 2>&1 < /dev/null &
      echo $! > "$STATE/podman-service.pid"
      for _ in $(seq 100); do [ -S "$GALAXY_CONTAINER_SOCKET" ] && break; sleep 0.1; done
      # runtime runs as UID/GID 10001 (the images' user). podman-compose 1.0 ignores group_add, so
      # this socket (ours alone, not the system's) belongs to that group instead.
      chgrp 10001 "$GALAXY_CONTAINER_SOCKET"
      chmod 660 "$GALAXY_CONTAINER_SOCKET"
    fi
    # The engines are reached at the host's address (podman 4.3 has no `host-gateway`).
    export GALAXY_HOST_GATEWAY="${GALAXY_HOST_GATEWAY:-$(hostname -I | awk '{print $1}')}"
  fi
  # ... and publish their port there only, not on every interface.
  if [ -z "${GALAXY_ENGINE_PUBLISH_ADDR:-}" ]; then
    if [ "$ENGINE" = docker ]; then
      GALAXY_ENGINE_PUBLISH_ADDR="$(docker network inspect bridge -f '{{(index .IPAM.Config 0).Gateway}}' 2>/dev/null || echo 0.0.0.0)"
    else
      GALAXY_ENGINE_PUBLISH_ADDR="$GALAXY_HOST_GATEWAY"
    fi
    export GALAXY_ENGINE_PUBLISH_ADDR
  fi
  if ! [ -S "$GALAXY_CONTAINER_SOCKET" ]; then
    say "no container-engine socket at $GALAXY_CONTAINER_SOCKET (set GALAXY_CONTAINER_SOCKET)"
    exit 1
  fi
  export DOCKER_GID="${DOCKER_GID:-$(stat -c %g "$GALAXY_CONTAINER_SOCKET")}"
}

wait_ready() {
  local url="http://127.0.0.1:$GALAXY_HTTP_PORT/readyz" began=$1
  while ! curl -fsS -o /dev/null "$url" 2>/dev/null; do
    if [ $(( $(date +%s) - began )) -ge "$READY_TIMEOUT" ]; then
      say "the edge was not ready within ${READY_TIMEOUT}s ($url); container states:"
      "${COMPOSE[@]}" "${FILES[@]}" ps >&2 || true
      return 1
    fi
    sleep 1
  done
}

cmd_up() {
  local began
  began=$(date +%s)
  command -v curl >/dev/null 2>&1 || apt_install curl
  pick_engine
  load_env
  choose_images
  compose_files
  build_images
  check_images
  engine_socket
  local started
  started=$(date +%s)
  say "starting ($ENGINE, $(cat "$STATE/images") third-party images)"
  "${COMPOSE[@]}" "${FILES[@]}" up -d --no-build >"$STATE/up.log" 2>&1 \
    || { cat "$STATE/up.log" >&2; exit 1; }
  wait_ready "$started"
  local now
  now=$(date +%s)
  echo "$((now - started))" > "$STATE/ready-seconds"
  say "ready: http://127.0.0.1:$GALAXY_HTTP_PORT/readyz is 200, $((now - started)) s after the start command ($((now - began)) s in all with builds)"
  say "mail: http://127.0.0.1:$GALAXY_MAILPIT_UI_PORT; secrets and ports: $STATE/env"
}

cmd_down() {
  pick_engine
  load_env
  compose_files
  export GALAXY_CONTAINER_SOCKET="${GALAXY_CONTAINER_SOCKET:-$STATE/podman.sock}"
  "${COMPOSE[@]}" "${FILES[@]}" down -v >"$STATE/down.log" 2>&1 || { cat "$STATE/down.log" >&2; }
  # the game engines runtime started through the socket: runtime's label on this stack's engine image
  local engines
  local store=()
  [ "$ENGINE" = podman ] && store=("${ENGINE_STORE[@]}")
  engines="$("$ENGINE" "${store[@]}" ps -aq --filter label=galaxy.runtime=engine \
    --filter "ancestor=${GALAXY_IMAGE_PREFIX:-galaxy}/galaxy-engine:${GALAXY_IMAGE_TAG:-dev}" 2>/dev/null || true)"
  # shellcheck disable=SC2086 # one id per word
  if [ -n "$engines" ]; then "$ENGINE" "${store[@]}" rm -f $engines >/dev/null; fi
  if [ -s "$STATE/podman-service.pid" ]; then
    kill "$(cat "$STATE/podman-service.pid")" 2>/dev/null || true
    rm -f "$STATE/podman-service.pid" "$STATE/podman.sock"
  fi
  say "stopped"
}

cmd_test() {
  load_env
  export GALAXY_SUITE_EDGE_URL="http://127.0.0.1:$GALAXY_HTTP_PORT"
  export GALAXY_SUITE_MAIL_API="http://127.0.0.1:$GALAXY_MAILPIT_UI_PORT"
  export GALAXY_SUITE_ADMIN_USERNAME="$GALAXY_ADMIN_USERNAME" GALAXY_SUITE_ADMIN_PASSWORD="$GALAXY_ADMIN_PASSWORD"
  export GALAXY_SUITE_DATABASE_URL="postgresql://galaxy:$POSTGRES_PASSWORD@127.0.0.1:$GALAXY_POSTGRES_PORT/galaxy"
  curl -fsS -o /dev/null "$GALAXY_SUITE_EDGE_URL/readyz" \
    || { say "no ready stack at $GALAXY_SUITE_EDGE_URL: run make compose-up first"; exit 1; }
  exec uv run --frozen pytest tests/suite -m "suite and not local_processes" -p no:cacheprovider "$@"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  test) shift; cmd_test "$@" ;;
  *) echo "usage: tools/compose.sh up|test|down" >&2; exit 2 ;;
esac
