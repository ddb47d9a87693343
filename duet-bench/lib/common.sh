# Helpers shared by run.sh's parts: logging, process control, polling, REST calls, fio output,
# backing-file preparation and per-process CPU/RSS. Sourced by run.sh; defines functions only.

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

# Polls "$@" every 0.1 s for up to $1 seconds while process $2 lives; fails clearly otherwise.
#   await SECONDS PID WHAT COMMAND...
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

# Prints N free TCP ports on loopback (the kernel picks them; tiny race until servers bind them).
free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
PY
}

# One REST call to a Duet site; prints the response body, fails (body on stderr) on HTTP >= 400.
#   api API_URL TOKEN METHOD PATH [JSON_BODY]
api() {
  local url=$1 token=$2 method=$3 path=$4 body=${5:-} out code
  local args=(-sS -X "$method" -H "Authorization: Bearer $token" -w '\n%{http_code}')
  [ -z "$body" ] || args+=(-H 'Content-Type: application/json' --data "$body")
  out=$(curl "${args[@]}" "$url/api/v1$path") || return 1
  code=${out##*$'\n'}
  out=${out%$'\n'*}
  if [ "$code" -ge 400 ]; then
    echo "run.sh: $method $path -> HTTP $code: $out" >&2
    return 1
  fi
  printf '%s\n' "$out"
}

# Prints the value at a dotted path (e.g. resync.bytesTotal) of the JSON document on stdin.
json_get() {
  python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v if not isinstance(v, (dict, list)) else json.dumps(v))' "$1"
}

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

# Every backing file gets the same bytes the same way, so that 4 KiB writes meet the same
# allocation state everywhere: written in place (conv=notrunc: a server's open file keeps its
# inode) by one dd from one random seed file, so every block is allocated and written (no holes,
# no unwritten fallocate extents, no extents shared with the seed), then flushed to disk and
# dropped from the page cache. measure() then reads each target's files back in before every
# measurement, so every target starts from the same fully cached state.
#   prepare_backing_files SEED FILE...
prepare_backing_files() {
  local seed=$1 f
  shift
  for f in "$@"; do
    [ -e "$f" ] || : >"$f"
    dd if="$seed" of="$f" bs=1M conv=notrunc,fdatasync status=none
    # A count of 0 with iflag=nocache asks the kernel to drop the whole file's (clean) pages.
    dd if="$f" iflag=nocache count=0 status=none
  done
}

# "allocated MiB, extents, cached %" of FILE, to show that the preparation really was equal.
file_state() {
  local f=$1 size blocks extents cached
  size=$(stat -c %s "$f")
  blocks=$(stat -c '%b*%B' "$f")
  extents=$(filefrag "$f" 2>/dev/null | sed -n 's/.*: \([0-9]*\) extents\{0,1\} found/\1/p')
  cached=$(resident_pct "$f")
  echo "$((size >> 20)) MiB, $(($blocks >> 20)) MiB allocated, ${extents:-?} extents, $cached% cached"
}

# Percent of FILE's pages in the page cache.
resident_pct() {
  fincore -nb -o RES "$1" | awk -v size="$(stat -c %s "$1")" '{printf "%d", 100 * $1 / size}'
}

# utime+stime of the whole process (all threads), in clock ticks. The comm field may hold
# spaces, so fields are counted after its closing parenthesis.
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
# VmHWM is the peak since start; writing 5 to clear_refs restarts it so each measurement gets
# its own peak. Without permission to do that the value is the peak since the server started.
reset_peak_rss() { echo 5 >"/proc/$1/clear_refs" 2>/dev/null || true; }
peak_rss_mib() { awk '/^VmHWM:/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

to_bytes() {
  case "$1" in
    *k) echo $((${1%k} * 1024)) ;;
    *m) echo $((${1%m} * 1024 * 1024)) ;;
    *) echo "$1" ;;
  esac
}
