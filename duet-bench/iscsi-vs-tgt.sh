#!/usr/bin/env bash
# iscsi-perf: Duet vs tgt over equal, equally filled backing files in one directory, same run.
# Patterns: 4 KiB random read (-r -b 8 -m 32 on 512 B blocks) and 64 KiB sequential read
# (-b 128 -m 32). Each pattern runs RUNS times per target, alternating; prints the median IOPS
# of each and the ratio Duet/tgt. Not a test: nothing is asserted.
#   usage: duet-bench/iscsi-vs-tgt.sh [RUNS=5] [SECONDS=10] [SIZE_MIB=1024]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${1:-5}
SECS=${2:-10}
SIZE_MIB=${3:-1024}
"$ROOT/scripts/install-test-packages.sh"
WORK=$(mktemp -d /tmp/duet-bench.XXXXXX)
TGT_PORT=13260
DUET_PORT=13261
API_PORT=17081
cleanup() {
  [ -n "${DUET_PID:-}" ] && kill "$DUET_PID" 2>/dev/null || true
  [ -n "${TGT_PID:-}" ] && kill "$TGT_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# tgt: its own daemon on its own portal and control socket, one LUN on a file in $WORK.
truncate -s "${SIZE_MIB}M" "$WORK/tgt.img"
dd if=/dev/urandom of="$WORK/tgt.img" bs=1M count="$SIZE_MIB" conv=notrunc status=none
tgtd -f --iscsi portal=127.0.0.1:$TGT_PORT -C 7 >"$WORK/tgtd.log" 2>&1 &
TGT_PID=$!
for _ in $(seq 50); do tgtadm -C 7 --lld iscsi --op show --mode target >/dev/null 2>&1 && break; sleep 0.1; done
tgtadm -C 7 --lld iscsi --op new --mode target --tid 1 -T iqn.2001-04.com.example:bench
tgtadm -C 7 --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 -b "$WORK/tgt.img"
tgtadm -C 7 --lld iscsi --op bind --mode target --tid 1 -I ALL
TGT_URL=iscsi://127.0.0.1:$TGT_PORT/iqn.2001-04.com.example:bench/1

# Duet: a site whose data directory is in $WORK; the volume's data file is filled the same way.
cat >"$WORK/site.yaml" <<YAML
name: bench
dataDir: $WORK/duet
api: 127.0.0.1:$API_PORT
portals: [ "127.0.0.1:$DUET_PORT" ]
YAML
"$ROOT/duet" site run --config "$WORK/site.yaml" >"$WORK/duet.out" 2>"$WORK/duet.log" &
DUET_PID=$!
for _ in $(seq 600); do grep -q '"ready"' "$WORK/duet.out" 2>/dev/null && break; sleep 0.1; done
export DUET_API=http://127.0.0.1:$API_PORT DUET_TOKEN=$(cat "$WORK/duet/api-token")
"$ROOT/duet" volume create bench --size "${SIZE_MIB}MiB" --block-size 512 >/dev/null
"$ROOT/duet" map bench --host '*' --lun 0 >/dev/null
DATA=$(find "$WORK/duet" -name data -type f -size +1M | head -n 1)
dd if="$WORK/tgt.img" of="$DATA" bs=1M conv=notrunc status=none
TARGET=$("$ROOT/duet" target list --json | sed -n 's/.*"name" *: *"\([^"]*\)".*/\1/p' | head -n 1)
DUET_URL=iscsi://127.0.0.1:$DUET_PORT/$TARGET/0

iops() { # url args... -> average IOPS of one run
  local url=$1; shift
  iscsi-perf "$@" -t "$SECS" "$url" 2>&1 | tr '\r' '\n' | sed -n 's/^iops average \([0-9]*\).*/\1/p' | tail -n 1
}
median() { sort -n | awk '{a[NR]=$1} END{print (NR%2)? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }

printf '%-28s %12s %12s %8s\n' pattern "Duet IOPS" "tgt IOPS" "ratio"
for pattern in "4k-randread:-r -b 8 -m 32" "64k-seqread:-b 128 -m 32"; do
  name=${pattern%%:*}; args=${pattern#*:}
  : >"$WORK/d"; : >"$WORK/t"
  for _ in $(seq "$RUNS"); do
    # shellcheck disable=SC2086
    iops "$DUET_URL" $args >>"$WORK/d"
    # shellcheck disable=SC2086
    iops "$TGT_URL" $args >>"$WORK/t"
  done
  d=$(median <"$WORK/d"); t=$(median <"$WORK/t")
  printf '%-28s %12s %12s %8s\n' "$name" "$d" "$t" "$(awk -v d="$d" -v t="$t" 'BEGIN{printf "%.2fx", d/t}')"
  echo "  runs: duet $(tr '\n' ' ' <"$WORK/d")| tgt $(tr '\n' ' ' <"$WORK/t")"
done
