#!/usr/bin/env bash
# Installs the Debian packages Duet's tests drive, only if some are missing.
# (nbdsh comes with python3-libnbd.)
set -euo pipefail
need=()
command -v iscsi-test-cu >/dev/null || need+=(libiscsi-bin)
command -v fio >/dev/null || need+=(fio)
command -v nbdinfo >/dev/null || need+=(libnbd-bin)
command -v nbdsh >/dev/null || need+=(python3-libnbd)
command -v qemu-img >/dev/null || need+=(qemu-utils)
command -v tgtd >/dev/null || need+=(tgt)
command -v nbdkit >/dev/null || need+=(nbdkit)
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing test packages: ${need[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
