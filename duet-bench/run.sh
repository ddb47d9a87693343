#!/usr/bin/env bash
# End-to-end benchmark of Duet against the peers that do the same job on this machine, and of
# Duet's synchronous replication between two site processes:
#   NBD         : fio's nbd engine, Duet vs nbdkit (file plugin)
#   iSCSI       : libiscsi's iscsi-perf, Duet vs tgt (its own tgtd instance)
#   local       : fio on the raw backing file (page cache, no network): the ceiling for both
#   replication : fio 4 KiB random writes at site A's NBD export, the volume unreplicated, in an
#                 active-active consistency group with site B, and with 1 ms more round trip on
#                 the replication link (testkit fault proxy); then a resync through a bandwidth cap
# Every target serves an equal-sized file prepared the same way (see prepare_backing_files).
# Each (pattern, target) runs RUNS times; runs alternate between targets so that drift in
# machine load hits all of them alike, and the table shows the median of the runs.
# Not a test: nothing is asserted. Usage: duet-bench/run.sh --help
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LIB=$ROOT/duet-bench/lib
. "$LIB/common.sh"
. "$LIB/peers.sh"
. "$LIB/replication.sh"

RUNS=3
SECONDS_PER_RUN=5
SIZE_MIB=1024
RESYNC_MIB=""
RESYNC_CAP=50MiB
PEERS=1
REPLICATION=1
usage() {
  cat <<USAGE
usage: duet-bench/run.sh [--replication | --no-replication] [--runs N] [--seconds S]
                         [--size-mib M] [--resync-mib N] [--resync-cap RATE] [--quick]
  --replication     only the replication benchmark (two Duet sites; no tgt/nbdkit/raw)
  --no-replication  only the comparison with tgt, nbdkit and the raw file
  --runs N          measurements per (pattern, target); the table shows the median (default $RUNS)
  --seconds S       seconds per measurement, after 1 s of ramp-up (default $SECONDS_PER_RUN)
  --size-mib M      size of every backing file and of the Duet volume (default $SIZE_MIB)
  --resync-mib N    MiB written at site A while the replication link is cut (default: size / 4)
  --resync-cap RATE bandwidth cap of the replication link during the resync, e.g. 50MiB, 40MB
                    (default $RESYNC_CAP; per second)
  --quick           --runs 1 --seconds 2 --size-mib 256 (about five minutes; three with
                    --replication)
Defaults take about 13 minutes on 2 cores (plus building Duet when its sources changed). Needs
fio, python3, curl, filefrag, fincore; iscsi-perf, tgtd/tgtadm, nbdkit for the comparison
(scripts/install-test-packages.sh installs the Debian packages); a JDK 25 for the fault proxy.
USAGE
}
while [ $# -gt 0 ]; do
  case "$1" in
    --replication) PEERS=0; REPLICATION=1; shift ;;
    --no-replication) PEERS=1; REPLICATION=0; shift ;;
    --runs) RUNS=${2:?--runs needs a value}; shift 2 ;;
    --seconds) SECONDS_PER_RUN=${2:?--seconds needs a value}; shift 2 ;;
    --size-mib) SIZE_MIB=${2:?--size-mib needs a value}; shift 2 ;;
    --resync-mib) RESYNC_MIB=${2:?--resync-mib needs a value}; shift 2 ;;
    --resync-cap) RESYNC_CAP=${2:?--resync-cap needs a value}; shift 2 ;;
    --quick) RUNS=1; SECONDS_PER_RUN=2; SIZE_MIB=256; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
RESYNC_MIB=${RESYNC_MIB:-$((SIZE_MIB / 4))}
for v in RUNS SECONDS_PER_RUN SIZE_MIB RESYNC_MIB; do
  if ! [[ ${!v} =~ ^[1-9][0-9]*$ ]]; then
    echo "run.sh: ${v} must be a positive integer, got '${!v}'" >&2
    exit 2
  fi
done
if [ "$SIZE_MIB" -lt 16 ] || [ "$RESYNC_MIB" -gt "$SIZE_MIB" ]; then
  echo "run.sh: --size-mib must be at least 16 and --resync-mib at most --size-mib" >&2
  exit 2
fi
rate_bytes "$RESYNC_CAP" >/dev/null || exit 2

tools=(fio python3 dd fincore filefrag curl)
[ "$PEERS" = 0 ] || tools+=(iscsi-perf tgtd tgtadm nbdkit)
missing=()
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "run.sh: missing tools: ${missing[*]}" >&2
  echo "run.sh: install them with scripts/install-test-packages.sh (Debian/Ubuntu)" >&2
  exit 2
fi
if ! fio --enghelp 2>/dev/null | grep -qw nbd; then
  echo "run.sh: this fio has no nbd engine (Debian's fio package has it)" >&2
  exit 2
fi
. "$ROOT/scripts/java-env.sh"

# ---------------------------------------------------------------------------------------------
# Processes and cleanup. Every process started here is remembered by pid and stopped on exit.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/duet-bench.XXXXXX")
RESULTS=$WORK/results.tsv
: >"$RESULTS"
SITE_A_PID="" REPORTED=0 LOAD_START="?" LOAD_END="?" FILE_STATES=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_peers
  stop_replication
  stop_pid "$SITE_A_PID"
  # A run that stopped part way still shows what it measured.
  if [ "$REPORTED" = 0 ] && [ -s "$RESULTS" ]; then
    report "WARNING: the run stopped early (exit $rc); these are the measurements it completed."
  fi
  # On a failure (not on Ctrl-C / SIGTERM) the servers' last words usually say why.
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 130 ] && [ "$rc" -ne 143 ] && [ -d "$WORK" ]; then
    for f in duet.log duet-b.log proxy.log tgtd.log nbdkit.log; do
      [ -s "$WORK/$f" ] && { echo "--- last lines of $f" >&2; tail -n 15 "$WORK/$f" >&2; }
    done
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

read -r TGT_PORT DUET_ISCSI_PORT DUET_NBD_PORT NBDKIT_PORT API_PORT REPL_A_PORT REPL_B_PORT \
  ISCSI_B_PORT API_B_PORT NBD_B_PORT < <(free_ports 10)
SITE_A_API=http://127.0.0.1:$API_PORT
SITE_B_API=http://127.0.0.1:$API_B_PORT
[ "$PEERS" = 0 ] || pick_tgt_control

# Duet: build once if needed, then never again during the run (other sources may change meanwhile).
STALE_BUILD=""
if [ "${DUET_SKIP_BUILD:-0}" != 1 ]; then
  log "building Duet if sources changed"
  if ! "$ROOT/duet" --version >/dev/null; then
    [ -f "$ROOT/duet-cli/target/duet-cli-0.1.0-SNAPSHOT.jar" ] || exit 1
    STALE_BUILD="the build failed: this run measured the previous build of Duet"
    log "WARNING: $STALE_BUILD"
  fi
fi
export DUET_SKIP_BUILD=1
# Everything runs from a copy of the build: another build in this tree may rewrite the jars while
# the sites run, and a JVM that loads a class from a rewritten jar fails part way through a run.
DIST=$WORK/dist
mkdir -p "$DIST/scripts" "$DIST/duet-cli/target" "$DIST/duet-testkit/target"
cp "$ROOT/duet" "$DIST/"
cp "$ROOT/scripts/java-env.sh" "$DIST/scripts/"
cp -r "$ROOT/duet-cli/target/duet-cli-0.1.0-SNAPSHOT.jar" "$ROOT/duet-cli/target/lib" \
  "$DIST/duet-cli/target/"
cp "$ROOT"/duet-testkit/target/duet-testkit-*.jar "$DIST/duet-testkit/target/" 2>/dev/null || true
DUET=$DIST/duet
DUET_NBD=0
# The CLI answers any unknown word with its top-level help (exit 0), so look for the command.
if "$DUET" --help 2>/dev/null | grep -qE '^ +nbd +'; then
  DUET_NBD=1
fi

# Starts a Duet site process; its pid goes to the variable named by the last argument.
#   start_site NAME DATA_DIR API_URL ISCSI_PORT GROUP_ID REPLICATION NBD_PORT PID_VARIABLE
# GROUP_ID is its ALUA port group, relative target port id and portal group tag alike (unique
# per site); an empty REPLICATION or NBD_PORT leaves that listener out.
start_site() {
  local name=$1 dir=$2 api=$3 iscsi=$4 group=$5 repl=$6 nbd=$7 out=${2%/}.out
  {
    echo "name: $name"
    echo "dataDir: $dir"
    echo "api: ${api#http://}"
    echo "portals: [ \"127.0.0.1:$iscsi\" ]"
    echo "portGroupId: $group"
    echo "relativeTargetPortId: $group"
    echo "portalGroupTag: $group"
    [ -z "$repl" ] || echo "replication: \"$repl\""
    [ -z "$nbd" ] || echo "nbd: [ \"127.0.0.1:$nbd\" ]"
  } >"${dir%/}.yaml"
  log "starting Duet site $name (iSCSI 127.0.0.1:$iscsi${nbd:+, NBD 127.0.0.1:$nbd}${repl:+, replication $repl})"
  "$DUET" site run --config "${dir%/}.yaml" >"$out" 2>"${dir%/}.log" &
  printf -v "$8" %s $!
}
start_site_a() {
  local repl=""
  [ "$REPLICATION" = 0 ] || repl=127.0.0.1:$REPL_A_PORT
  start_site bench-a "$WORK/duet" "$SITE_A_API" "$DUET_ISCSI_PORT" 1 "$repl" \
    "$([ "$DUET_NBD" = 1 ] && echo "$DUET_NBD_PORT")" SITE_A_PID
}
start_site_a

# ---------------------------------------------------------------------------------------------
# Backing files: every target's file gets the same bytes the same way (prepare_backing_files).
log "work directory $WORK; writing ${SIZE_MIB} MiB of random data to a seed file"
dd if=/dev/urandom of="$WORK/seed.bin" bs=1M count="$SIZE_MIB" status=none
PEER_FILES=()
[ "$PEERS" = 0 ] || PEER_FILES=("$WORK/raw.img" "$WORK/tgt.img" "$WORK/nbdkit.img")
[ ${#PEER_FILES[@]} -eq 0 ] || prepare_backing_files "$WORK/seed.bin" "${PEER_FILES[@]}"
[ "$PEERS" = 0 ] || start_peers

if ! await 180 "$SITE_A_PID" "Duet site" grep -q '"ready"' "$WORK/duet.out"; then
  # A build whose CLI knows `duet nbd` but whose site config does not (yet) take NBD listeners:
  # measure iSCSI without it rather than nothing.
  if [ "$DUET_NBD" = 1 ] && grep -q "field 'nbd'" "$WORK/duet.log"; then
    log "this Duet build does not accept NBD listeners in site.yaml; running without Duet NBD"
    wait "$SITE_A_PID" 2>/dev/null || true
    DUET_NBD=0
    rm -rf "$WORK/duet"
    start_site_a
    await 180 "$SITE_A_PID" "Duet site" grep -q '"ready"' "$WORK/duet.out"
  else
    exit 1
  fi
fi
SITE_A_TOKEN=$(cat "$WORK/duet/api-token")
export DUET_API=$SITE_A_API DUET_TOKEN=$SITE_A_TOKEN
"$DUET" volume create bench --size "${SIZE_MIB}MiB" --block-size 512 >/dev/null
"$DUET" map bench --host '*' --lun 0 >/dev/null
DATA=$(find "$WORK/duet" -name data -type f -size +1M | head -n 1)
[ -n "$DATA" ] || { echo "run.sh: the Duet volume's data file was not found" >&2; exit 1; }
prepare_backing_files "$WORK/seed.bin" "$DATA"
rm -f "$WORK/seed.bin"
FILE_STATES=()
for f in "${PEER_FILES[@]}"; do
  FILE_STATES+=("$(printf '%-12s %s' "$(basename "$f")" "$(file_state "$f")")")
done
FILE_STATES+=("$(printf '%-12s %s' "duet-a/data" "$(file_state "$DATA")")")
TARGET=$(python3 -c 'import json,sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event") == "ready":
        print(e["sites"][0]["target"]); break' "$WORK/duet.out")
DUET_ISCSI_URL=iscsi://127.0.0.1:$DUET_ISCSI_PORT/$TARGET/0
DUET_NBD_URI=""
if [ "$DUET_NBD" = 1 ]; then
  "$DUET" nbd export bench --name bench >/dev/null
  DUET_NBD_URI=nbd://127.0.0.1:$DUET_NBD_PORT/bench
fi

# The summary: the table, how the files were prepared, what the columns mean. Also printed by
# cleanup when a run stops part way.
# Prints a long line as an indented paragraph of the notes.
wrapped() { fold -s -w 96 <<<"$1" | sed 's/^/  /'; }
report() {
  REPORTED=1
  echo
  echo "Duet end-to-end benchmark: $RUNS run(s) x ${SECONDS_PER_RUN}s, ${SIZE_MIB} MiB volume, $(nproc) cores,"
  echo "load average $LOAD_START at start, $LOAD_END at end; values are medians of the runs."
  [ -z "${1:-}" ] || echo "$1"
  [ -z "$STALE_BUILD" ] || echo "WARNING: $STALE_BUILD"
  [ "$DUET_NBD" = 1 ] || echo "Duet has no NBD server in this build: NBD patterns show nbdkit and raw only."
  [ "$COLD_RUNS" -eq 0 ] || echo "WARNING: $COLD_RUNS measurement(s) lost part of their backing file from the page cache."
  [ "$REPLICATION" = 0 ] || echo "Replication: $CG_STATUS"
  python3 "$LIB/table.py" "$RESULTS"
  echo
  echo "Backing files: the same ${SIZE_MIB} MiB of random bytes, written in place by one dd per file from"
  echo "  one seed file (conv=notrunc,fdatasync), so every block is allocated and written; then dropped"
  echo "  from the page cache (dd iflag=nocache) and read back in full before every measurement."
  echo "  State after preparation:"
  printf '    %s\n' "${FILE_STATES[@]}"
  echo "Notes: iscsi-* patterns use iscsi-perf (no latency histogram); the rest fio (clat percentiles)."
  if [ "$PEERS" = 1 ]; then
    echo "raw = fio libaio on the backing file through the page cache (no server, so no CPU/RSS);"
    echo "  buffered libaio completes in the submitting call, so raw qd32 is not more parallel than qd1."
  fi
  echo "CPU s = utime+stime of the server process(es) over the whole client run (ramp-up included);"
  echo "  RSS MiB = peak resident set (VmHWM, restarted before each measurement); for repl rows both"
  echo "  sites summed (the fault proxy not counted)."
  echo "ratio = IOPS against duet-nbd: nbdkit, duet-iscsi: tgt, repl*: solo; for resync"
  echo "  rows MB/s against the bandwidth cap. p50-RTT/p99-RTT subtract the round trip the proxy adds."
  if [ "$REPLICATION" = 1 ]; then
    echo "Replication: fio at site A's NBD export; solo = the volume before it joined the CG (site B"
    echo "  paired, link idle); repl = in an active-active CG led by A, every byte to B through the"
    echo "  fault proxy with no delay; repl+1ms = the proxy delaying each direction by 0.5 ms;"
    echo "  repl@b = the same writes at site B (the follower: the leader orders each write)."
    wrapped "${INITIAL_DETAIL:-initial synchronization not measured}."
    wrapped "${RESYNC_DETAIL:-resync not measured}."
  fi
}

# ---------------------------------------------------------------------------------------------
# Measurements. Each appends one line to results.tsv (lib/table.py reads it):
#   pattern target run iops mb_per_s p50_us p99_us cpu_s rss_mib rtt_us cap_mb_per_s
TICKS=$(getconf CLK_TCK)

# The server processes whose CPU and memory a target's measurement counts.
server_pids() {
  case "$1" in
    duet-*|solo) echo "$SITE_A_PID" ;;
    repl*) echo "$SITE_A_PID $SITE_B_PID" ;;
    tgt) echo "$TGT_PID" ;;
    nbdkit) echo "$NBDKIT_PID" ;;
    *) echo "" ;;
  esac
}
backing_files() {
  case "$1" in
    duet-*|solo) echo "$DATA" ;;
    repl*) echo "$DATA $DATA_B" ;;
    *) echo "$WORK/$1.img" ;;
  esac
}
# Round trip the fault proxy adds to the replication link for a target, in microseconds.
added_rtt_us() { case "$1" in repl*+1ms) echo 1000 ;; *) echo 0 ;; esac; }
COLD_RUNS=0

# Sums cpu_ticks over pids.
sum_ticks() {
  local total=0 p
  for p in "$@"; do total=$((total + $(cpu_ticks "$p"))); done
  echo "$total"
}

# Runs one measurement and records it; a failed measurement is reported and left out.
#   measure PATTERN TARGET RUN
measure() {
  local pattern=$1 target=$2 run=$3 pids files cpu0 numbers f p
  read -r -a pids <<<"$(server_pids "$target")"
  read -r -a files <<<"$(backing_files "$target")"
  # Every target starts with its whole file in the page cache: the comparison is of the servers,
  # not of which file the kernel happened to keep when memory is tight.
  cat "${files[@]}" >/dev/null
  for p in "${pids[@]}"; do
    kill -0 "$p" 2>/dev/null || { echo "run.sh: $target server died" >&2; exit 1; }
    reset_peak_rss "$p"
  done
  prepare_replication_target "$target"
  cpu0=$(sum_ticks "${pids[@]}")
  if numbers=$(run_client "$pattern" "$target" "$SECONDS_PER_RUN"); then
    if [ ${#pids[@]} -gt 0 ]; then
      local cpu1 rss=0
      cpu1=$(sum_ticks "${pids[@]}")
      for p in "${pids[@]}"; do rss=$((rss + $(peak_rss_mib "$p"))); done
      numbers="$numbers $(awk -v a="$cpu0" -v b="$cpu1" -v t="$TICKS" 'BEGIN{printf "%.2f", (b-a)/t}') $rss"
    else
      numbers="$numbers - -"
    fi
    echo "$pattern $target $run $numbers $(added_rtt_us "$target") -" >>"$RESULTS"
    log "  $pattern $target run $run: $numbers"
    for f in "${files[@]}"; do
      local pct
      pct=$(resident_pct "$f")
      if [ "$pct" -lt 95 ]; then
        COLD_RUNS=$((COLD_RUNS + 1))
        log "  (only $pct% of $target's backing file $(basename "$f") stayed cached: memory pressure)"
      fi
    done
  else
    log "  $pattern $target run $run: FAILED (left out of the median)"
  fi
  # Write back what the run dirtied now, untimed, rather than during the next measurement.
  case "$pattern" in *write*) sync "${files[@]}" ;; esac
}

# Prints "iops mb_per_s p50_us p99_us" for one run of PATTERN against TARGET lasting SECS.
run_client() {
  local pattern=$1 target=$2 secs=$3
  case "$pattern" in
    iscsi-*) run_iscsi_perf "$pattern" "$target" "$secs" ;;
    *) run_fio "$pattern" "$target" "$secs" ;;
  esac
}

# Pattern names carry their parameters: SIZE-RW-qdN (fio) or iscsi-SIZE-RW-qdN (iscsi-perf).
run_fio() {
  local pattern=$1 target=$2 secs=$3 bs rw qd dir out="$WORK/fio.json"
  IFS=- read -r bs rw qd <<<"$pattern"
  qd=${qd#qd}
  case "$rw" in *read) dir=read ;; *) dir=write ;; esac
  local common=(--name=bench "--rw=$rw" "--bs=$bs" "--iodepth=$qd" --time_based
    --ramp_time=1 "--runtime=$secs" --randseed=42 --group_reporting
    --output-format=json "--output=$out")
  case "$target" in
    duet-nbd|solo|repl|repl+1ms) fio "${common[@]}" --ioengine=nbd "--uri=$DUET_NBD_URI" >"$WORK/fio.log" 2>&1 ;;
    repl@b*) fio "${common[@]}" --ioengine=nbd "--uri=$DUET_NBD_URI_B" >"$WORK/fio.log" 2>&1 ;;
    nbdkit) fio "${common[@]}" --ioengine=nbd "--uri=$NBDKIT_URI" >"$WORK/fio.log" 2>&1 ;;
    # fio drops a file's cached pages before it starts unless told not to (invalidate=1).
    raw) fio "${common[@]}" --ioengine=libaio --direct=0 --invalidate=0 \
      "--filename=$WORK/raw.img" "--size=${SIZE_MIB}M" >"$WORK/fio.log" 2>&1 ;;
    *) return 1 ;;
  esac || { sed 's/^/    fio: /' "$WORK/fio.log" >&2; return 1; }
  fio_numbers "$out" "$dir"
}

# iscsi-perf prints a running "iops average" line; the last one covers the whole run. It has no
# latency histogram, so p50/p99 stay empty; raw runs of the same pattern use fio instead. It
# only reads (READ(16)), which is why the replication benchmark drives NBD.
run_iscsi_perf() {
  local pattern=$1 target=$2 secs=$3 bs rw qd url args blocks iops
  IFS=- read -r _ bs rw qd <<<"$pattern"
  qd=${qd#qd}
  blocks=$(($(to_bytes "$bs") / 512))
  case "$target" in
    duet-iscsi) url=$DUET_ISCSI_URL ;;
    tgt) url=$TGT_URL ;;
    raw) run_fio "$bs-$rw-qd$qd" raw "$secs"; return ;;
    *) return 1 ;;
  esac
  args=(-b "$blocks" -m "$qd" -t "$secs")
  [ "$rw" = randread ] && args+=(-r)
  iops=$(iscsi-perf "${args[@]}" "$url" 2>&1 | tr '\r' '\n' | tee "$WORK/iscsi-perf.log" |
    sed -n 's/^iops average \([0-9]*\).*/\1/p' | tail -n 1)
  if [ -z "$iops" ]; then
    sed 's/^/    iscsi-perf: /' "$WORK/iscsi-perf.log" | tail -n 5 >&2
    return 1
  fi
  awk -v i="$iops" -v b="$(to_bytes "$bs")" 'BEGIN{printf "%d %.1f - -\n", i, i * b / 1e6}'
}

# Runs every "pattern:target target..." entry RUNS times; the order of targets flips on every
# other run.
run_plan() {
  local run entry pattern targets reversed i t
  for run in $(seq "$RUNS"); do
    log "run $run of $RUNS"
    for entry in "$@"; do
      pattern=${entry%%:*}
      read -r -a targets <<<"${entry#*:}"
      if [ $((run % 2)) -eq 0 ]; then
        reversed=()
        for ((i = ${#targets[@]} - 1; i >= 0; i--)); do reversed+=("${targets[i]}"); done
        targets=("${reversed[@]}")
      fi
      for t in "${targets[@]}"; do
        measure "$pattern" "$t" "$run"
      done
    done
  done
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
[ "$PEERS" = 0 ] || run_peer_comparison
if [ "$REPLICATION" = 1 ]; then
  run_replication
fi
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
report
