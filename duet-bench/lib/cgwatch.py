"""Watches a consistency group through a Duet site's REST API (GET /api/v1/cgs/NAME) for run.sh.

  cgwatch.py wait   API TOKEN CG --timeout S FIELD=VALUE...   until every field has its value
  cgwatch.py resync API TOKEN CG --timeout S                 times a resync that starts now

`wait` prints the matching view's syncState/link/availability. `resync` prints
"BYTES LINK_UP_S IN_SYNC_S": the bytes the resync reported it must cover (its largest bytesTotal;
0 if it finished between two polls) and the seconds from the call to the link coming up and to
IN_SYNC. Exit status 1 with a reason on stderr on timeout or a bad answer.
"""

import argparse
import json
import sys
import time
import urllib.error
import urllib.request

POLL_S = 0.05


def view(api, token, cg):
    req = urllib.request.Request(
        f"{api}/api/v1/cgs/{cg}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        doc = json.load(resp)
    if not isinstance(doc, dict):
        raise ValueError(f"GET /cgs/{cg} answered {doc!r}, not an object")
    return doc


def poll(args):
    """The CG's view, or {} when the site answers with an HTTP error (it may be mid-change);
    a site that does not answer at all ends the watch (URLError)."""
    try:
        return view(args.api, args.token, args.cg)
    except urllib.error.HTTPError as e:
        return {"error": f"HTTP {e.code}"}


def summary(v):
    if "error" in v:
        return v["error"]
    return " ".join(f"{k}={v.get(k)}" for k in ("role", "syncState", "link", "availability"))


def wait(args):
    want = dict(pair.split("=", 1) for pair in args.fields)
    deadline = time.monotonic() + args.timeout
    last = None
    while time.monotonic() < deadline:
        last = poll(args)
        if all(str(last.get(k)) == v for k, v in want.items()):
            print(summary(last))
            return 0
        time.sleep(POLL_S)
    sys.exit(f"cgwatch: {args.cg} not {want} after {args.timeout}s; last: {summary(last or {})}")


def resync(args):
    start = time.monotonic()
    deadline = start + args.timeout
    link_up = None
    largest = 0
    # A view from before the cut took effect may still say IN_SYNC: done only after out of sync.
    was_out = False
    while time.monotonic() < deadline:
        v = poll(args)
        now = time.monotonic() - start
        if link_up is None and v.get("link") == "UP":
            link_up = now
        largest = max(largest, int((v.get("resync") or {}).get("bytesTotal") or 0))
        was_out = was_out or v.get("syncState") in ("OUT_OF_SYNC", "RESYNCING")
        if was_out and link_up is not None and v.get("syncState") == "IN_SYNC":
            print(largest, f"{link_up:.3f}", f"{now:.3f}")
            return 0
        time.sleep(POLL_S)
    sys.exit(f"cgwatch: {args.cg} resync not done after {args.timeout}s; last: {summary(v)}")


def main():
    p = argparse.ArgumentParser(description="watch a Duet consistency group")
    p.add_argument("mode", choices=("wait", "resync"))
    p.add_argument("api")
    p.add_argument("token")
    p.add_argument("cg")
    p.add_argument("fields", nargs="*", help="FIELD=VALUE (wait only)")
    p.add_argument("--timeout", type=float, required=True)
    args = p.parse_intermixed_args()
    if args.mode == "wait" and (not args.fields or any("=" not in f for f in args.fields)):
        p.error("wait needs FIELD=VALUE arguments")
    try:
        return wait(args) if args.mode == "wait" else resync(args)
    except (urllib.error.URLError, OSError, ValueError) as e:
        sys.exit(f"cgwatch: {e}")


if __name__ == "__main__":
    sys.exit(main())
