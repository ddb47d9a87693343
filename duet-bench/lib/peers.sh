# The peer comparison: tgt and nbdkit next to Duet, and the plan of patterns run against them.
# Sourced by run.sh after lib/common.sh; uses WORK, RUNS and run.sh's measure/run_client.

TGT_PID="" NBDKIT_PID="" TGT_CONTROL=""

# tgtd's control channel is a unix socket named by number; take one no other tgtd uses.
pick_tgt_control() {
  local n
  for n in $(seq 100 999); do
    if [ ! -e "/var/run/tgtd/socket.$n" ] && [ ! -e "/var/run/tgtd/socket.$n.lock" ]; then
      TGT_CONTROL=$n
      return 0
    fi
  done
  echo "run.sh: no free tgtd control port" >&2
  return 1
}

# Starts tgtd and nbdkit on the prepared files tgt.img and nbdkit.img (ports TGT_PORT,
# NBDKIT_PORT); sets TGT_URL and NBDKIT_URI once both serve.
start_peers() {
  log "starting tgtd (iSCSI 127.0.0.1:$TGT_PORT, control $TGT_CONTROL)"
  tgtd -f --iscsi "portal=127.0.0.1:$TGT_PORT" -C "$TGT_CONTROL" >"$WORK/tgtd.log" 2>&1 &
  TGT_PID=$!
  log "starting nbdkit (NBD 127.0.0.1:$NBDKIT_PORT)"
  nbdkit -f --pidfile "$WORK/nbdkit.pid" -i 127.0.0.1 -p "$NBDKIT_PORT" file "$WORK/nbdkit.img" \
    >"$WORK/nbdkit.log" 2>&1 &
  NBDKIT_PID=$!

  await 30 "$TGT_PID" tgtd tgtadm -C "$TGT_CONTROL" --lld iscsi --op show --mode target
  tgtadm -C "$TGT_CONTROL" --lld iscsi --op new --mode target --tid 1 -T iqn.2001-04.com.example:bench
  tgtadm -C "$TGT_CONTROL" --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 -b "$WORK/tgt.img"
  tgtadm -C "$TGT_CONTROL" --lld iscsi --op bind --mode target --tid 1 -I ALL
  TGT_URL=iscsi://127.0.0.1:$TGT_PORT/iqn.2001-04.com.example:bench/1
  await 30 "$NBDKIT_PID" nbdkit test -s "$WORK/nbdkit.pid"
  NBDKIT_URI=nbd://127.0.0.1:$NBDKIT_PORT/bench
}

stop_peers() {
  if [ -n "$TGT_PID" ] && kill -0 "$TGT_PID" 2>/dev/null; then
    # tgtd ignores SIGTERM while it has targets; this is its orderly shutdown.
    tgtadm -C "$TGT_CONTROL" --op delete --mode system >/dev/null 2>&1 || true
    wait_gone "$TGT_PID" 50 || true
  fi
  stop_pid "$TGT_PID"
  # tgtd leaves its control socket behind; the number is ours only if our tgtd got to start.
  if [ -n "$TGT_PID" ]; then
    rm -f "/var/run/tgtd/socket.$TGT_CONTROL" "/var/run/tgtd/socket.$TGT_CONTROL.lock"
  fi
  stop_pid "$NBDKIT_PID"
}

# Warms every server up, then runs each pattern against its targets RUNS times.
run_peer_comparison() {
  local nbd_targets="nbdkit raw" t
  [ "$DUET_NBD" = 1 ] && nbd_targets="duet-nbd nbdkit raw"
  local plan=(
    "4k-randread-qd1:$nbd_targets"
    "4k-randread-qd32:$nbd_targets"
    "4k-randwrite-qd1:$nbd_targets"
    "4k-randwrite-qd32:$nbd_targets"
    "1m-write-qd8:$nbd_targets"
    "1m-read-qd8:$nbd_targets"
    "iscsi-4k-randread-qd32:duet-iscsi tgt"
    "iscsi-64k-read-qd32:duet-iscsi tgt raw"
  )
  # JIT and caches: a short untimed pass over each server before anything counts.
  log "warming up"
  for t in $nbd_targets; do
    [ "$t" = raw ] || run_client 4k-randread-qd32 "$t" 2 >/dev/null || true
  done
  run_client iscsi-4k-randread-qd32 duet-iscsi 2 >/dev/null || true
  run_client iscsi-4k-randread-qd32 tgt 2 >/dev/null || true
  run_plan "${plan[@]}"
}
