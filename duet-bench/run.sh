#!/usr/bin/env bash
# End-to-end benchmark of one Duet site against the peers that do the same job on this machine:
#   NBD   : fio's nbd engine, Duet vs nbdkit (file plugin)
#   iSCSI : libiscsi's iscsi-perf, Duet vs tgt (its own tgtd instance)
#   local : fio on the raw backing file (page cache, no network): the ceiling for both
# Every target serves an equal-sized file in one work directory, all filled with the same random
# bytes. Each (pattern, target) runs RUNS times; runs alternate between targets so that drift in
# machine load hits all of them alike, and the table shows the median of the runs.
# Not a test: nothing is asserted. Usage: duet-bench/run.sh --help
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

RUNS=3
SECONDS_PER_RUN=5
SIZE_MIB=1024
usage() {
  cat <<EOF
usage: duet-bench/run.sh [--runs N] [--seconds S] [--size-mib M] [--quick]
  --runs N       measurements per (pattern, target); the table shows the median (default $RUNS)
  --seconds S    seconds per measurement, after 1 s of ramp-up (default $SECONDS_PER_RUN)
  --size-mib M   size of every backing file and of the Duet volume (default $SIZE_MIB)
  --quick        --runs 1 --seconds 2 --size-mib 256 (about two minutes)
Defaults take about 9 minutes on 2 cores (plus building Duet when its sources changed). Needs fio, iscsi-perf, tgtd/tgtadm, nbdkit, python3
(scripts/install-test-packages.sh installs the Debian packages).
EOF
}
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=${2:?--runs needs a value}; shift 2 ;;
    --seconds) SECONDS_PER_RUN=${2:?--seconds needs a value}; shift 2 ;;
    --size-mib) SIZE_MIB=${2:?--size-mib needs a value}; shift 2 ;;
    --quick) RUNS=1; SECONDS_PER_RUN=2; SIZE_MIB=256; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
for v in RUNS SECONDS_PER_RUN SIZE_MIB; do
  if ! [[ ${!v} =~ ^[1-9][0-9]*$ ]]; then
    echo "run.sh: ${v} must be a positive integer, got '${!v}'" >&2
    exit 2
  fi
done
if [ "$SIZE_MIB" -lt 16 ]; then
  echo "run.sh: --size-mib must be at least 16" >&2
  exit 2
fi

missing=()
for tool in fio iscsi-perf tgtd tgtadm nbdkit python3 dd fincore; do
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

# ---------------------------------------------------------------------------------------------
# Processes and cleanup. Every process started here is remembered by pid and stopped on exit.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/duet-bench.XXXXXX")
DUET_PID="" TGT_PID="" NBDKIT_PID="" TGT_CONTROL=""
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Waits up to $2 tenths of a second for pid $1 to exit.
wait_gone() {
  local pid=$1 tenths=$2
  for _ in $(seq "$tenths"); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  return 1
}
stop_pid() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill "$pid" 2>/dev/null || true
  wait_gone "$pid" 100 || kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
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
  stop_pid "$DUET_PID"
  # On a failure (not on Ctrl-C / SIGTERM) the servers' last words usually say why.
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 130 ] && [ "$rc" -ne 143 ] && [ -d "$WORK" ]; then
    for f in duet.log tgtd.log nbdkit.log; do
      [ -s "$WORK/$f" ] && { echo "--- last lines of $f" >&2; tail -n 15 "$WORK/$f" >&2; }
    done
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Free TCP ports on loopback (the kernel picks them; tiny race until the servers bind them).
read -r TGT_PORT DUET_ISCSI_PORT DUET_NBD_PORT NBDKIT_PORT API_PORT < <(python3 - <<'PY'
import socket
socks = [socket.socket() for _ in range(5)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
PY
)
# tgtd's control channel is a unix socket named by number; take one no other tgtd uses.
for n in $(seq 100 999); do
  if [ ! -e "/var/run/tgtd/socket.$n" ] && [ ! -e "/var/run/tgtd/socket.$n.lock" ]; then
    TGT_CONTROL=$n
    break
  fi
done
[ -n "$TGT_CONTROL" ] || { echo "run.sh: no free tgtd control port" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Backing files: one random file (also the raw-file target), copies for tgt and nbdkit.
log "work directory $WORK; filling ${SIZE_MIB} MiB backing files with random data"
dd if=/dev/urandom of="$WORK/raw.img" bs=1M count="$SIZE_MIB" status=none
cp "$WORK/raw.img" "$WORK/tgt.img"
cp "$WORK/raw.img" "$WORK/nbdkit.img"

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
DUET_NBD=0
# The CLI answers any unknown word with its top-level help (exit 0), so look for the command.
if "$ROOT/duet" --help 2>/dev/null | grep -qE '^ +nbd +'; then
  DUET_NBD=1
fi
start_duet() {
  {
    echo "name: bench"
    echo "dataDir: $WORK/duet"
    echo "api: 127.0.0.1:$API_PORT"
    echo "portals: [ \"127.0.0.1:$DUET_ISCSI_PORT\" ]"
    if [ "$DUET_NBD" = 1 ]; then echo "nbd: [ \"127.0.0.1:$DUET_NBD_PORT\" ]"; fi
  } >"$WORK/site.yaml"
  log "starting Duet (iSCSI 127.0.0.1:$DUET_ISCSI_PORT$([ "$DUET_NBD" = 1 ] && echo ", NBD 127.0.0.1:$DUET_NBD_PORT"))"
  "$ROOT/duet" site run --config "$WORK/site.yaml" >"$WORK/duet.out" 2>"$WORK/duet.log" &
  DUET_PID=$!
}
start_duet

log "starting tgtd (iSCSI 127.0.0.1:$TGT_PORT, control $TGT_CONTROL)"
tgtd -f --iscsi "portal=127.0.0.1:$TGT_PORT" -C "$TGT_CONTROL" >"$WORK/tgtd.log" 2>&1 &
TGT_PID=$!

log "starting nbdkit (NBD 127.0.0.1:$NBDKIT_PORT)"
nbdkit -f --pidfile "$WORK/nbdkit.pid" -i 127.0.0.1 -p "$NBDKIT_PORT" file "$WORK/nbdkit.img" \
  >"$WORK/nbdkit.log" 2>&1 &
NBDKIT_PID=$!

# Polls "$@" every 0.1 s for up to $1 seconds while process $2 lives; fails clearly otherwise.
await() {
  local seconds=$1 pid=$2 what=$3
  shift 3
  for _ in $(seq $((seconds * 10))); do
    "$@" >/dev/null 2>&1 && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "run.sh: $what exited before it was ready" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "run.sh: $what not ready after ${seconds}s" >&2
  return 1
}
await 30 "$TGT_PID" tgtd tgtadm -C "$TGT_CONTROL" --lld iscsi --op show --mode target
tgtadm -C "$TGT_CONTROL" --lld iscsi --op new --mode target --tid 1 -T iqn.2001-04.com.example:bench
tgtadm -C "$TGT_CONTROL" --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 -b "$WORK/tgt.img"
tgtadm -C "$TGT_CONTROL" --lld iscsi --op bind --mode target --tid 1 -I ALL
TGT_URL=iscsi://127.0.0.1:$TGT_PORT/iqn.2001-04.com.example:bench/1

await 30 "$NBDKIT_PID" nbdkit test -s "$WORK/nbdkit.pid"
NBDKIT_URI=nbd://127.0.0.1:$NBDKIT_PORT/bench

if ! await 180 "$DUET_PID" "Duet site" grep -q '"ready"' "$WORK/duet.out"; then
  # A build whose CLI knows `duet nbd` but whose site config does not (yet) take NBD listeners:
  # measure iSCSI without it rather than nothing.
  if [ "$DUET_NBD" = 1 ] && grep -q "field 'nbd'" "$WORK/duet.log"; then
    log "this Duet build does not accept NBD listeners in site.yaml; running without Duet NBD"
    wait "$DUET_PID" 2>/dev/null || true
    DUET_NBD=0
    rm -rf "$WORK/duet"
    start_duet
    await 180 "$DUET_PID" "Duet site" grep -q '"ready"' "$WORK/duet.out"
  else
    exit 1
  fi
fi
export DUET_API=http://127.0.0.1:$API_PORT
DUET_TOKEN=$(cat "$WORK/duet/api-token")
export DUET_TOKEN
"$ROOT/duet" volume create bench --size "${SIZE_MIB}MiB" --block-size 512 >/dev/null
"$ROOT/duet" map bench --host '*' --lun 0 >/dev/null
DATA=$(find "$WORK/duet" -name data -type f -size +1M | head -n 1)
[ -n "$DATA" ] || { echo "run.sh: the Duet volume's data file was not found" >&2; exit 1; }
dd if="$WORK/raw.img" of="$DATA" bs=1M conv=notrunc status=none
TARGET=$(python3 -c 'import json,sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event") == "ready":
        print(e["sites"][0]["target"]); break' "$WORK/duet.out")
DUET_ISCSI_URL=iscsi://127.0.0.1:$DUET_ISCSI_PORT/$TARGET/0
DUET_NBD_URI=""
if [ "$DUET_NBD" = 1 ]; then
  "$ROOT/duet" nbd export bench --name bench >/dev/null
  DUET_NBD_URI=nbd://127.0.0.1:$DUET_NBD_PORT/bench
fi

# ---------------------------------------------------------------------------------------------
# Measurements. Each appends one line to results.tsv:
#   pattern target run iops mb_per_s p50_us p99_us cpu_s peak_rss_mib
RESULTS=$WORK/results.tsv
: >"$RESULTS"
TICKS=$(getconf CLK_TCK)

server_pid() {
  case "$1" in
    duet-*) echo "$DUET_PID" ;;
    tgt) echo "$TGT_PID" ;;
    nbdkit) echo "$NBDKIT_PID" ;;
    *) echo "" ;;
  esac
}
# utime+stime of the whole process (all threads), in clock ticks. The comm field may hold
# spaces, so fields are counted after its closing parenthesis.
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
# VmHWM is the peak since start; writing 5 to clear_refs restarts it so each measurement gets
# its own peak. Without permission to do that the value is the peak since the server started.
reset_peak_rss() { echo 5 >"/proc/$1/clear_refs" 2>/dev/null || true; }
peak_rss_mib() { awk '/^VmHWM:/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

# fio json -> "iops mb_per_s p50_us p99_us" of the direction that did I/O.
fio_numbers() {
  python3 - "$1" "$2" <<'PY'
import json, sys
job = json.load(open(sys.argv[1]))["jobs"][0]
if job.get("error"):
    sys.exit("fio reported error %s" % job["error"])
d = job[sys.argv[2]]
pct = d["clat_ns"].get("percentile", {})
us = lambda k: "%.1f" % (pct[k] / 1000.0) if k in pct else "-"
print("%.0f %.1f %s %s" % (d["iops"], d["bw_bytes"] / 1e6, us("50.000000"), us("99.000000")))
PY
}

backing_file() {
  case "$1" in
    duet-*) echo "$DATA" ;;
    *) echo "$WORK/$1.img" ;;
  esac
}
# Percent of FILE's pages in the page cache.
resident_pct() {
  fincore -nb -o RES "$1" | awk -v size="$(stat -c %s "$1")" '{printf "%d", 100 * $1 / size}'
}
COLD_RUNS=0

# Runs one measurement and records it; a failed measurement is reported and left out.
#   measure PATTERN TARGET RUN
measure() {
  local pattern=$1 target=$2 run=$3 pid cpu0 numbers file
  pid=$(server_pid "$target")
  file=$(backing_file "$target")
  # Every target starts with its whole file in the page cache: the comparison is of the servers,
  # not of which file the kernel happened to keep when memory is tight.
  cat "$file" >/dev/null
  if [ -n "$pid" ]; then
    kill -0 "$pid" 2>/dev/null || { echo "run.sh: $target server died" >&2; exit 1; }
    reset_peak_rss "$pid"
    cpu0=$(cpu_ticks "$pid")
  fi
  if numbers=$(run_client "$pattern" "$target" "$SECONDS_PER_RUN"); then
    if [ -n "$pid" ]; then
      local cpu1 rss
      cpu1=$(cpu_ticks "$pid")
      rss=$(peak_rss_mib "$pid")
      numbers="$numbers $(awk -v a="$cpu0" -v b="$cpu1" -v t="$TICKS" 'BEGIN{printf "%.2f", (b-a)/t}') $rss"
    else
      numbers="$numbers - -"
    fi
    echo "$pattern $target $run $numbers" >>"$RESULTS"
    log "  $pattern $target run $run: $numbers"
    local pct
    pct=$(resident_pct "$file")
    if [ "$pct" -lt 95 ]; then
      COLD_RUNS=$((COLD_RUNS + 1))
      log "  (only $pct% of $target's backing file stayed cached: memory pressure, disk reads included)"
    fi
  else
    log "  $pattern $target run $run: FAILED (left out of the median)"
  fi
  # Write back what the run dirtied now, untimed, rather than during the next measurement.
  case "$pattern" in *write*) sync "$file" ;; esac
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
    duet-nbd) fio "${common[@]}" --ioengine=nbd "--uri=$DUET_NBD_URI" >"$WORK/fio.log" 2>&1 ;;
    nbdkit) fio "${common[@]}" --ioengine=nbd "--uri=$NBDKIT_URI" >"$WORK/fio.log" 2>&1 ;;
    # fio drops a file's cached pages before it starts unless told not to (invalidate=1).
    raw) fio "${common[@]}" --ioengine=libaio --direct=0 --invalidate=0 \
      "--filename=$WORK/raw.img" "--size=${SIZE_MIB}M" >"$WORK/fio.log" 2>&1 ;;
    *) return 1 ;;
  esac || { sed 's/^/    fio: /' "$WORK/fio.log" >&2; return 1; }
  fio_numbers "$out" "$dir"
}

# iscsi-perf prints a running "iops average" line; the last one covers the whole run. It has no
# latency histogram, so p50/p99 stay empty; raw runs of the same pattern use fio instead.
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
to_bytes() {
  case "$1" in
    *k) echo $((${1%k} * 1024)) ;;
    *m) echo $((${1%m} * 1024 * 1024)) ;;
    *) echo "$1" ;;
  esac
}

# pattern:targets. Order of targets flips on every other run.
NBD_TARGETS="nbdkit raw"
[ "$DUET_NBD" = 1 ] && NBD_TARGETS="duet-nbd nbdkit raw"
PLAN=(
  "4k-randread-qd1:$NBD_TARGETS"
  "4k-randread-qd32:$NBD_TARGETS"
  "4k-randwrite-qd1:$NBD_TARGETS"
  "4k-randwrite-qd32:$NBD_TARGETS"
  "1m-write-qd8:$NBD_TARGETS"
  "1m-read-qd8:$NBD_TARGETS"
  "iscsi-4k-randread-qd32:duet-iscsi tgt"
  "iscsi-64k-read-qd32:duet-iscsi tgt raw"
)

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
# JIT and caches: a short untimed pass over each server before anything counts.
log "warming up"
for t in $NBD_TARGETS; do
  [ "$t" = raw ] || run_client 4k-randread-qd32 "$t" 2 >/dev/null || true
done
run_client iscsi-4k-randread-qd32 duet-iscsi 2 >/dev/null || true
run_client iscsi-4k-randread-qd32 tgt 2 >/dev/null || true

for run in $(seq "$RUNS"); do
  log "run $run of $RUNS"
  for entry in "${PLAN[@]}"; do
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
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------------------------------------
echo
echo "Duet end-to-end benchmark: $RUNS run(s) x ${SECONDS_PER_RUN}s, ${SIZE_MIB} MiB volume, $(nproc) cores,"
echo "load average $LOAD_START at start, $LOAD_END at end; values are medians of the runs."
[ -z "$STALE_BUILD" ] || echo "WARNING: $STALE_BUILD"
[ "$DUET_NBD" = 1 ] || echo "Duet has no NBD server in this build: NBD patterns show nbdkit and raw only."
[ "$COLD_RUNS" -eq 0 ] || echo "WARNING: $COLD_RUNS measurement(s) lost part of their backing file from the page cache."
python3 - "$RESULTS" <<'PY'
import statistics, sys
from collections import OrderedDict

rows = OrderedDict()
for line in open(sys.argv[1]):
    f = line.split()
    rows.setdefault((f[0], f[1]), []).append(f[3:])

def median(key, col):
    vals = [float(r[col]) for r in rows.get(key, []) if r[col] != "-"]
    return statistics.median(vals) if vals else None

def fmt(v, digits=0):
    return "-" if v is None else f"{v:,.{digits}f}"

peer_of = {"duet-nbd": "nbdkit", "duet-iscsi": "tgt"}
head = ("pattern", "target", "IOPS", "MB/s", "p50 us", "p99 us", "CPU s", "RSS MiB", "Duet/peer")
widths = (24, 11, 10, 9, 9, 9, 7, 8, 10)
print("  ".join(h.ljust(w) if i < 2 else h.rjust(w) for i, (h, w) in enumerate(zip(head, widths))))
for (pattern, target), runs in rows.items():
    key = (pattern, target)
    iops = median(key, 0)
    ratio = "-"
    if target in peer_of:
        peer = median((pattern, peer_of[target]), 0)
        if iops and peer:
            ratio = f"{iops / peer:.2f}x"
    cells = (pattern, target, fmt(iops), fmt(median(key, 1), 1), fmt(median(key, 2), 1),
             fmt(median(key, 3), 1), fmt(median(key, 4), 2), fmt(median(key, 5)), ratio)
    print("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))))
print()
print("IOPS of every run:")
for (pattern, target), runs in rows.items():
    print(f"  {pattern:24} {target:11} " + " ".join(r[0] for r in runs))
PY
echo
echo "Notes: iscsi-* patterns use iscsi-perf (no latency histogram); the rest fio (clat percentiles)."
echo "raw = fio libaio on the backing file through the page cache (no server, so no CPU/RSS);"
echo "  buffered libaio completes in the submitting call, so raw qd32 is not more parallel than qd1."
echo "CPU s = utime+stime of the server process over the whole client run (ramp-up included);"
echo "  RSS MiB = its peak resident set (VmHWM, restarted before each measurement)."
