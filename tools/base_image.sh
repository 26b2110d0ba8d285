#!/usr/bin/env bash
# A Python 3.11 base image made on this machine when no registry can be reached: a Debian bookworm
# rootfs from debootstrap (the apt mirror the host already uses), imported into podman. It stands
# in for python:3.11-slim in the Dockerfiles (build argument PYTHON_IMAGE):
#   - python, python3 and python3.11 in /usr/local/bin, as in the official image;
#   - python3-venv, so a build installs uv into a virtualenv: Debian's Python is
#     EXTERNALLY-MANAGED and refuses `pip install` into the system;
#   - the host's CA bundle (the package index may sit behind the host's TLS proxy), with
#     SSL_CERT_FILE pointing at it, which uv and pip read;
#   - no apt lists, caches, documentation or locales (image size).
#
#   bash tools/base_image.sh [IMAGE]      # default localhost/galaxy-python:3.11-bookworm
#
# Idempotent: does nothing when the image exists. Needs root (debootstrap) and podman.
set -euo pipefail
IMAGE="${1:-localhost/galaxy-python:3.11-bookworm}"

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
if podman image exists "$IMAGE"; then
  exit 0
fi
if ! command -v debootstrap >/dev/null 2>&1; then
  echo "base_image: installing debootstrap" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq debootstrap >/dev/null
fi

mirror="$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)"
mirror="${mirror:-$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null)}"
mirror="${mirror:-http://deb.debian.org/debian}"
work="$(mktemp -d "${TMPDIR:-/tmp}/galaxy-base-image.XXXXXX")"
trap '$SUDO rm -rf "$work"' EXIT
rootfs="$work/rootfs"
echo "base_image: debootstrap of bookworm from $mirror (about a minute)" >&2
$SUDO debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
  bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { cat "$work/debootstrap.log" >&2; echo "base_image: debootstrap failed" >&2; exit 1; }

for name in python python3 python3.11; do
  $SUDO ln -sf /usr/bin/python3.11 "$rootfs/usr/local/bin/$name"
done
if [ -s /etc/ssl/certs/ca-certificates.crt ]; then
  $SUDO cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
fi
$SUDO rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/* \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
  "$rootfs"/usr/share/locale/* "$rootfs"/tmp/*
$SUDO tar -C "$rootfs" -c . | podman import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["python3"]' \
  - "$IMAGE" >/dev/null
echo "base_image: $IMAGE ($(podman image inspect --format '{{.Size}}' "$IMAGE" | numfmt --to=si)B)" >&2
