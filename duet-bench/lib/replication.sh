# The replication benchmark: site A (run.sh's Duet site) paired with a second site process B
# through the testkit's fault proxy; a consistency group of A's volume "bench"; fio 4 KiB random
# writes (QD1 and QD32) at A's NBD export unreplicated, replicated, and replicated with 1 ms more
# round trip; the same at B's export of the twin (the follower, which has the leader order its
# writes); then the resync of N MiB written at A while the link was cut, through a bandwidth cap.
# Sourced by run.sh after lib/common.sh; uses its globals (WORK, ROOT, SITE_A_*, DATA, ...).
#
# Only B dials: B's replication port is bound to the wildcard address, which a site does not
# advertise to its peer, so A never dials B around the proxy and every replication byte crosses
# it (in the proxy's terms: "up" = B -> A, "down" = A -> B).

SITE_B_PID="" PROXY_PID="" PROXY_FD="" DATA_B="" DUET_NBD_URI_B="" CG_STATUS="not run"
CG=bench
RESYNC_DETAIL="" INITIAL_DETAIL=""
WATCH="$LIB/cgwatch.py"

# Sends one command line to the fault proxy and prints its answer ("ok", or the status line);
# fails on "error: ..." or when no answer comes within 5 s.
proxy_cmd() {
  local before line
  before=$(wc -l <"$WORK/proxy.out")
  printf '%s\n' "$*" >&"$PROXY_FD"
  for _ in $(seq 100); do
    [ "$(wc -l <"$WORK/proxy.out")" -gt "$before" ] && break
    sleep 0.05
  done
  line=$(sed -n "$((before + 1))p" "$WORK/proxy.out")
  case "$line" in
    "" | error*)
      echo "run.sh: fault proxy: '$*' answered '${line:-nothing in 5 s}'" >&2
      return 1
      ;;
  esac
  printf '%s\n' "$line"
}

# Bytes the proxy has forwarded from site A to site B (its "down" direction) since it started.
proxy_bytes_a_to_b() {
  proxy_cmd status | sed -n 's/.* down forwarded=\([0-9]*\).*/\1/p'
}

# Fails unless the replication traffic (at least half the initial synchronization's bytes, A to
# B) crossed the proxy: a link around it would make the delay and the cap meaningless.
check_traffic_through_proxy() {
  local down
  down=$(proxy_bytes_a_to_b)
  if [ "${down:-0}" -lt $((SIZE_MIB << 19)) ]; then
    echo "run.sh: only ${down:-0} bytes went from site A to site B through the fault proxy" >&2
    return 1
  fi
  log "fault proxy forwarded $((down >> 20)) MiB from site A to site B so far"
}

# Starts the fault proxy in front of A's replication port; its stdin is a FIFO held open by this
# shell, so the proxy ends with the script even when cleanup never runs (EOF means quit).
start_proxy() {
  local jar
  jar=$(ls "$DIST"/duet-testkit/target/duet-testkit-*.jar 2>/dev/null | grep -v -- '-tests\.jar$' | head -n 1)
  [ -n "$jar" ] || { echo "run.sh: duet-testkit jar not built (./mvnw install)" >&2; return 1; }
  mkfifo "$WORK/proxy.in"
  "$JAVA_HOME/bin/java" -Xmx64m -cp "$jar" io.duet.testkit.proxy.FaultProxyMain 0 \
    "127.0.0.1:$REPL_A_PORT" --bind 127.0.0.1 --seed 1 \
    <"$WORK/proxy.in" >"$WORK/proxy.out" 2>"$WORK/proxy.log" &
  PROXY_PID=$!
  exec {PROXY_FD}>"$WORK/proxy.in"
  await 30 "$PROXY_PID" "fault proxy" grep -q '^listening on ' "$WORK/proxy.out"
  PROXY_ADDR=$(sed -n 's/^listening on \([^ ]*\) .*/\1/p' "$WORK/proxy.out")
  log "fault proxy $PROXY_ADDR -> 127.0.0.1:$REPL_A_PORT (site A's replication port)"
}

stop_replication() {
  stop_pid "$SITE_B_PID"
  if [ -n "$PROXY_FD" ]; then
    exec {PROXY_FD}>&-
    PROXY_FD=""
  fi
  stop_pid "$PROXY_PID"
}

# Both sites list each other with the link up.
peers_up() {
  api "$SITE_A_API" "$SITE_A_TOKEN" GET /peers | grep -q '"link":"up"' &&
    api "$SITE_B_API" "$SITE_B_TOKEN" GET /peers | grep -q '"link":"up"'
}

# Starts site B and the proxy, pairs B with A through the proxy and waits for the link.
start_site_b_and_pair() {
  start_site bench-b "$WORK/duet-b" "$SITE_B_API" "$ISCSI_B_PORT" 2 "0.0.0.0:$REPL_B_PORT" \
    "$NBD_B_PORT" SITE_B_PID
  start_proxy
  await 180 "$SITE_B_PID" "Duet site B" grep -q '"ready"' "$WORK/duet-b.out"
  SITE_B_TOKEN=$(cat "$WORK/duet-b/api-token")
  local passphrase
  passphrase=$(api "$SITE_A_API" "$SITE_A_TOKEN" POST /peers/invitations '{}' | json_get passphrase)
  api "$SITE_B_API" "$SITE_B_TOKEN" POST /peers \
    "{\"address\":\"$PROXY_ADDR\",\"passphrase\":\"$passphrase\"}" >/dev/null
  await 60 "$SITE_B_PID" "peer link A-B" peers_up
  log "sites bench-a and bench-b paired through the proxy; link up"
}

# Creates the CG of A's volume and waits for the initial synchronization; records its rate.
create_cg() {
  local t0 out wire0
  wire0=$(proxy_bytes_a_to_b)
  t0=$EPOCHREALTIME
  api "$SITE_A_API" "$SITE_A_TOKEN" POST /cgs "{\"name\":\"$CG\",\"policy\":\"active-active\",
    \"peer\":\"bench-b\",\"volumes\":[\"bench\"],\"leader\":\"local\",\"resyncRate\":\"4GiB\"}" \
    >/dev/null
  out=$(python3 "$WATCH" wait "$SITE_A_API" "$SITE_A_TOKEN" "$CG" --timeout 600 \
    syncState=IN_SYNC link=UP availability=SERVING)
  log "initial synchronization done: $out"
  local secs
  secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.2f", b - a}')
  echo "initial-sync-${SIZE_MIB}MiB uncapped 1 - $(mb_per_s $((SIZE_MIB << 20)) "$secs") - - - - 0 -" \
    >>"$RESULTS"
  INITIAL_DETAIL="initial synchronization of ${SIZE_MIB} MiB (no cap, CG resyncRate 4GiB/s) took ${secs} s"
  INITIAL_DETAIL+=" from POST /cgs to IN_SYNC; $((($(proxy_bytes_a_to_b) - wire0) >> 20)) MiB crossed the link A->B"
  log "  $INITIAL_DETAIL"
  DATA_B=$(find "$WORK/duet-b" -name data -type f -size +1M | head -n 1)
}

# Cuts the link, writes RESYNC_MIB at A, caps the proxy at RESYNC_CAP and times the resync. The
# MB/s recorded are the bytes that crossed the capped link from A to B (the proxy's count, so
# whatever the resync sends: data, digests, framing) over the time from the link coming back up
# to IN_SYNC; the redial backoff after the restore is left out and reported apart.
measure_resync() {
  local cap_bytes out bytes up_s done_s wire0 wire1
  cap_bytes=$(rate_bytes "$RESYNC_CAP")
  log "resync: cutting the replication link"
  proxy_cmd refuse on >/dev/null
  proxy_cmd reset >/dev/null
  python3 "$WATCH" wait "$SITE_A_API" "$SITE_A_TOKEN" "$CG" --timeout 60 link=DOWN >/dev/null
  log "resync: writing ${RESYNC_MIB} MiB at site A while the link is down"
  fio --name=dirty --rw=write --bs=1m --iodepth=8 "--size=${RESYNC_MIB}M" --ioengine=nbd \
    "--uri=$DUET_NBD_URI" >"$WORK/fio.log" 2>&1 ||
    { sed 's/^/    fio: /' "$WORK/fio.log" >&2; return 1; }
  proxy_cmd bandwidth both "$RESYNC_CAP" >/dev/null
  wire0=$(proxy_bytes_a_to_b)
  proxy_cmd refuse off >/dev/null
  log "resync: link restored with a ${RESYNC_CAP}/s cap; waiting for IN_SYNC"
  out=$(python3 "$WATCH" resync "$SITE_A_API" "$SITE_A_TOKEN" "$CG" \
    --timeout $((RESYNC_MIB * 3 * 1048576 / cap_bytes + 120)))
  wire1=$(proxy_bytes_a_to_b)
  proxy_cmd heal >/dev/null
  read -r bytes up_s done_s <<<"$out"
  local secs wire=$((wire1 - wire0))
  secs=$(awk -v u="$up_s" -v d="$done_s" 'BEGIN{printf "%.2f", d - u}')
  local cap_mbps
  cap_mbps=$(mb_per_s "$cap_bytes" 1)
  echo "resync-${RESYNC_MIB}MiB cap${RESYNC_CAP} 1 - $(mb_per_s "$wire" "$secs") - - - - 0 $cap_mbps" \
    >>"$RESULTS"
  RESYNC_DETAIL="resync after ${RESYNC_MIB} MiB written during the cut: $((wire >> 20)) MiB crossed the"
  RESYNC_DETAIL+=" link A->B in ${secs} s from the link's return (after ${up_s} s of redial), the"
  RESYNC_DETAIL+=" resync reporting $((bytes >> 20)) MiB to cover; $(mb_per_s $((RESYNC_MIB << 20)) "$secs")"
  RESYNC_DETAIL+=" MB/s of written data"
  log "  $RESYNC_DETAIL"
}

# Prints BYTES / SECONDS in MB/s (10^6 bytes), one decimal.
mb_per_s() { awk -v b="$1" -v s="$2" 'BEGIN{printf "%.1f", b / s / 1e6}'; }

# "50MiB" -> bytes per second (the proxy's units: KiB/MiB/GiB binary, KB/MB/GB decimal).
rate_bytes() {
  python3 - "$1" <<'PY'
import re, sys
m = re.fullmatch(r"([0-9]+)([KMG]i?B)", sys.argv[1])
if not m:
    sys.exit("run.sh: --resync-cap takes a rate like 50MiB or 40MB, not " + sys.argv[1])
base = 1024 if "i" in m.group(2) else 1000
print(int(m.group(1)) * base ** ("KMG".index(m.group(2)[0]) + 1))
PY
}

# measure()'s hook: sets the proxy's delay for the replicated targets before each run.
prepare_replication_target() {
  case "$1" in
    repl*+1ms) proxy_cmd latency both 500us >/dev/null ;;
    repl*) proxy_cmd latency both 0 >/dev/null ;;
  esac
}

run_replication() {
  if [ "$DUET_NBD" != 1 ]; then
    CG_STATUS="skipped: this Duet build has no NBD server (fio drives the replicated volume over NBD)"
    return 0
  fi
  CG_STATUS="stopped while starting site B and pairing it with site A"
  start_site_b_and_pair
  CG_STATUS="stopped while measuring the unreplicated volume"
  log "replication: unreplicated volume first"
  run_client 4k-randwrite-qd32 solo 2 >/dev/null || true
  run_plan "4k-randwrite-qd1:solo" "4k-randwrite-qd32:solo"
  if ! api "$SITE_A_API" "$SITE_A_TOKEN" GET /cgs >/dev/null 2>&1; then
    CG_STATUS="skipped: this Duet build has no consistency groups (GET /api/v1/cgs failed)"
    return 0
  fi
  # A failure from here on ends the run (set -e); the report then says which step it was.
  log "replication: creating consistency group $CG (bench-a leads)"
  CG_STATUS="stopped while creating the consistency group and its initial synchronization"
  create_cg
  CG_STATUS="stopped while measuring the replicated volume"
  local targets="repl repl+1ms"
  # The follower's rows are a bonus: without an export of the twin at B they are left out.
  if api "$SITE_B_API" "$SITE_B_TOKEN" POST /nbd/exports '{"volume":"bench","name":"bench"}' \
    >/dev/null; then
    DUET_NBD_URI_B=nbd://127.0.0.1:$NBD_B_PORT/bench
    targets="$targets repl@b repl@b+1ms"
  else
    log "site B did not export its twin over NBD: no follower rows"
  fi
  run_client 4k-randwrite-qd32 repl 2 >/dev/null || true
  # QD1 shows what one write costs (there p50 minus the added RTT is the replication overhead);
  # QD32 what the path sustains.
  run_plan "4k-randwrite-qd1:$targets" "4k-randwrite-qd32:$targets"
  check_traffic_through_proxy
  CG_STATUS="stopped while measuring the resync"
  measure_resync
  CG_STATUS="measured"
}
