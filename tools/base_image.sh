#!/usr/bin/env bash
# A Python 3.11 base image made on this machine when no registry can be reached: a Debian bookworm
# rootfs from debootstrap (the apt mirror the host already uses), imported into podman. It stands
# in for python:3.11-slim in the Dockerfiles (build argument PYTHON_IMAGE):
#   - python, python3 and python3.11 in /usr/local/bin, as in the official image;
#   - python3-venv, so a build installs uv into a virtualenv: Debian's Python is
#     EXTERNALLY-MANAGED and refuses `pip install` into the system;
#   - the host's CA bundle (the package index may sit behind the host's TLS proxy), with
#     SSL_CERT_FILE pointing at it, which uv and pip read;
#   - no apt lists, caches, documentation or locales (image size);
#   - none of what a Galaxy container never reads (image size, docs/deploy.md "Image sizes"): the
#     standard library's byte-code at the default level (the images run at optimisation level 2
#     and compile the library at that level themselves, as on the official image, which ships
#     none), its test, lib2to3 and pydoc_data directories, and glibc's gconv modules (iconv for
#     non-Unicode character sets; Python's codecs are its own). apt, dpkg and perl stay: the
#     stand-ins of docker-compose.local.yml install Debian packages on this base.
#
#   bash tools/base_image.sh [IMAGE]      # default localhost/galaxy-python:3.11-bookworm
#
# Idempotent: does nothing when the image exists and was made by this version of the recipe
# (its label galaxy.base.recipe); an image of an older recipe is made again.
# Needs root (debootstrap) and podman.
set -euo pipefail
IMAGE="${1:-localhost/galaxy-python:3.11-bookworm}"
# Raise it whenever the image's content changes, so that an existing base is replaced.
RECIPE=2

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
if podman image exists "$IMAGE"; then
  made_by="$(podman image inspect --format '{{ index .Labels "galaxy.base.recipe" }}' "$IMAGE" 2>/dev/null || true)"
  if [ "$made_by" = "$RECIPE" ]; then
    exit 0
  fi
  echo "base_image: $IMAGE is from an older recipe (${made_by:-1}); making it again" >&2
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
  "$rootfs"/usr/share/locale/* "$rootfs"/tmp/* \
  "$rootfs"/usr/lib/*-linux-gnu/gconv \
  "$rootfs"/usr/lib/python3.11/test "$rootfs"/usr/lib/python3.11/lib2to3 \
  "$rootfs"/usr/lib/python3.11/pydoc_data
$SUDO find "$rootfs"/usr/lib/python3.11 "$rootfs"/usr/lib/python3/dist-packages \
  -name __pycache__ -type d -prune -exec rm -rf {} +
$SUDO tar -C "$rootfs" -c . | podman import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["python3"]' \
  --change "LABEL galaxy.base.recipe=$RECIPE" \
  - "$IMAGE" >/dev/null
echo "base_image: $IMAGE ($(podman image inspect --format '{{.Size}}' "$IMAGE" | numfmt --to=si)B)" >&2
