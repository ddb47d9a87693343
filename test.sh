#!/usr/bin/env bash
# Runs Duet's whole test suite: unit tests (Surefire) and the end-to-end tests against real
# clients and real site processes (Failsafe). Installs the Debian packages the tests drive
# (libiscsi-bin, fio, libnbd-bin, python3-libnbd, qemu-utils, tgt, nbdkit) when they are missing.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$ROOT"
. scripts/java-env.sh
scripts/install-test-packages.sh
exec ./mvnw -B -ntp verify "$@"
