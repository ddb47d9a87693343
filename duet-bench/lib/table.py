"""Prints run.sh's results table: the median of each (pattern, target) over its runs.

Input: results.tsv, one measurement a line, fields separated by blanks, "-" when not measured:
  pattern target run iops mb_per_s p50_us p99_us cpu_s rss_mib rtt_us cap_mb_per_s
"""

import statistics
import sys
from collections import OrderedDict

# The ratio column compares a target's IOPS with another target's in the same pattern.
RATIO_OF = {"duet-nbd": "nbdkit", "duet-iscsi": "tgt", "repl": "solo", "repl+1ms": "solo",
            "repl@b": "solo", "repl@b+1ms": "solo"}
HEAD = ("pattern", "target", "IOPS", "MB/s", "p50 us", "p99 us", "p50-RTT", "p99-RTT",
        "CPU s", "RSS MiB", "ratio")
WIDTHS = (24, 11, 9, 8, 9, 9, 8, 8, 7, 8, 7)


def load(path):
    rows = OrderedDict()
    for line in open(path):
        f = line.split()
        if len(f) == 11:
            rows.setdefault((f[0], f[1]), []).append(f[3:])
    return rows


def median(rows, key, col):
    vals = [float(r[col]) for r in rows.get(key, []) if r[col] != "-"]
    return statistics.median(vals) if vals else None


def fmt(v, digits=0):
    return "-" if v is None else f"{v:,.{digits}f}"


def minus(v, rtt):
    return None if v is None or not rtt else v - rtt


def ratio(rows, key):
    pattern, target = key
    if target in RATIO_OF:
        mine, other = median(rows, key, 0), median(rows, (pattern, RATIO_OF[target]), 0)
        return f"{mine / other:.2f}x" if mine and other else "-"
    mbps, cap = median(rows, key, 1), median(rows, key, 7)
    return f"{mbps / cap:.2f}x" if mbps and cap else "-"


def line(cells):
    return "  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                     for i, (c, w) in enumerate(zip(cells, WIDTHS)))


def main():
    rows = load(sys.argv[1])
    print(line(HEAD))
    for key in rows:
        p50, p99, rtt = median(rows, key, 2), median(rows, key, 3), median(rows, key, 6)
        print(line((key[0], key[1], fmt(median(rows, key, 0)), fmt(median(rows, key, 1), 1),
                    fmt(p50, 1), fmt(p99, 1), fmt(minus(p50, rtt), 1), fmt(minus(p99, rtt), 1),
                    fmt(median(rows, key, 4), 2), fmt(median(rows, key, 5)), ratio(rows, key))))
    print()
    print("IOPS (MB/s for sync rows) of every run:")
    for (pattern, target), runs in rows.items():
        print(f"  {pattern:24} {target:11} " +
              " ".join(r[0] if r[0] != "-" else r[1] for r in runs))


if __name__ == "__main__":
    main()
