#!/usr/bin/env bash
# Runs Duet's iSCSI dev target (src/test/java/io/duet/iscsi/DevTarget.java) on 127.0.0.1:PORT
# with its volumes in DIR. Example:
#   duet-iscsi/dev-target.sh 3260 /tmp/duet-dev &
#   iscsi-test-cu -d iscsi://127.0.0.1:3260/iqn.2026-11.io.duet:dev/0
set -euo pipefail
if [ $# -ne 2 ]; then echo "usage: $0 PORT DIR" >&2; exit 2; fi
PORT=$1
DIR=$2
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
cd "$ROOT"
if [ "${DUET_SKIP_BUILD:-0}" != 1 ]; then
  ./mvnw -q -B -o install -Dmaven.test.skip=true -pl duet-store,duet-scsi >&2
  ./mvnw -q -B -o test-compile -pl duet-iscsi >&2
fi
CP_FILE="$HERE/target/dev-classpath.txt"
./mvnw -q -B -o -pl duet-iscsi dependency:build-classpath -Dmdep.outputFile="$CP_FILE" >&2
mkdir -p "$DIR"
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED \
  -cp "$HERE/target/test-classes:$HERE/target/classes:$(cat "$CP_FILE")" \
  io.duet.iscsi.DevTarget "$PORT" "$DIR"
