#!/usr/bin/env python3
"""Validate a portstorm run record (the JSON written by `portstorm run -o FILE`).

usage: validate-record.py [--schema-only | --strict] RECORD.json [SCHEMA]

SCHEMA defaults to run-record.schema.json next to this script. The record is checked
against the JSON Schema (draft 2020-12, with format checks), then against invariants the
schema cannot express (skipped with --schema-only):

  - totals.causes has exactly the keys of totals.outcomes
  - totals.attempted == sum(totals.outcomes) + totals.inFlightAtEnd
  - sums a reader computes fit in 2^64-1: totals.attempted + totals.missed, each second's
    ok + failures; the histogram holds at most 2^53 connects and its count x value sum fits
    (portstorm's decoder refuses records that break these, naming the field)
  - the histogram's bucket counts add up to latency.connect.count, buckets ascend by value,
    and the summary is all zero when empty, ordered (min <= p50 <= ... <= max) otherwise
  - timeline[i].t == i; each second's connect and handshake percentiles are ordered
    (p50 <= p90 <= p99 <= max) and its handshakeBuckets add up to its handshakes
  - endedAt >= startedAt; localPorts / ipLocalPortRange have low <= high
  - stopReason `duration` / `connections` matches a configured bound
  - totals.requestedRate equals config.rate; without a rate, delayed and missed are 0
  - config.threads <= config.concurrency; the "ran N worker threads (asked M)" and
    "concurrency capped at N (asked M)" notes, when present, agree with config
  - kernelWitness.startCensus has trigger `start` and atMs 0, and no timeline census has
    trigger `start`; heldBefore (only with a start census) is at most portsInUse;
  - each census (timeline[].kernel.census): floor(atMs / 1000) is its second's t, atMs is
    within the run, a `final` census is the last one; each tuple is toward target.used,
    tuples are sorted by source without repeats (in a merged record: within a host's range,
    toward a host's target address, atMs up to 1 s past the end), buckets add up to portsInUse (slices no
    port maps to are 0), portsInUse <= rangeHigh - rangeLow + 1 and <= the sockets counted
    in states, and rangeLow / rangeHigh / rangeSize are the effective range computed from
    system and config.localPorts (PortBudget.effectiveRange)

--strict also requires the timeline to account for the totals (per-second attempts,
ok and failures add up to totals.attempted and totals.outcomes; in a TLS run the per-second
handshakes add up to tls.handshakes), which holds for records written by a run but not for
hand-made sample records.

Exit status: 0 valid, 1 invalid (every problem is printed on stderr), 2 usage or I/O error.
"""

import ipaddress
import json
import os
import re
import sys
from datetime import datetime

try:
    from jsonschema import Draft202012Validator
except ImportError:  # pragma: no cover
    print("validate-record.py: the python3 'jsonschema' package is required (pip install jsonschema)", file=sys.stderr)
    sys.exit(2)

DEFAULT_SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run-record.schema.json")


def usage(msg=None):
    if msg:
        print(f"validate-record.py: {msg}", file=sys.stderr)
    print("usage: validate-record.py [--schema-only | --strict] RECORD.json [SCHEMA]", file=sys.stderr)
    sys.exit(2)


def _no_duplicates(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise ValueError(f"duplicate key {k!r}")
        obj[k] = v
    return obj


def _reject_constant(name):
    raise ValueError(f"non-standard JSON number {name}")


def load_json(path, what):
    try:
        with open(path, "rb") as f:
            return json.loads(f.read().decode("utf-8"), object_pairs_hook=_no_duplicates,
                              parse_constant=_reject_constant)
    except OSError as e:
        print(f"validate-record.py: cannot read {what} {path}: {e.strerror}", file=sys.stderr)
        sys.exit(2)
    except (ValueError, UnicodeDecodeError) as e:
        if what == "schema":
            print(f"validate-record.py: schema {path} is not valid JSON: {e}", file=sys.stderr)
            sys.exit(2)
        return e


def pointer(path_parts):
    return "/" + "/".join(str(p) for p in path_parts) if path_parts else "(record)"


def schema_errors(record, schema):
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    out = []
    for err in sorted(validator.iter_errors(record), key=lambda e: [str(p) for p in e.absolute_path]):
        # For anyOf/allOf failures, the deepest sub-error is usually the informative one.
        msg = err.message
        if err.context:
            best = max(err.context, key=lambda e: len(e.absolute_path))
            if best.message != msg:
                msg = f"{msg} ({best.message})"
        out.append(f"{pointer(err.absolute_path)}: {msg}")
    return out


def parse_date(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def reserved_ports(text):
    """PortBudget.reservedPorts: "8080,40000-40009" -> [(lo, hi)]; malformed items are ignored."""
    out = []
    for item in re.split(r"[,\n ]+", text):
        ends = [e for e in item.split("-") if e]
        if not ends or len(ends) > 2 or not all(e.isdigit() and int(e) <= 65535 for e in ends):
            continue
        lo, hi = int(ends[0]), int(ends[-1])
        if lo <= hi:
            out.append((lo, hi))
    return out


def effective_range(system, local_ports):
    """PortBudget.effectiveRange: the per-socket range intersected with ip_local_port_range
    (ignored when they do not overlap), minus ip_local_reserved_ports -> (low, high, size)."""
    pr = system.get("ipLocalPortRange")
    lo, hi = (pr[0], pr[-1]) if pr else (32768, 60999)
    if local_ports and max(lo, local_ports["low"]) <= min(hi, local_ports["high"]):
        lo, hi = max(lo, local_ports["low"]), min(hi, local_ports["high"])
    size = hi - lo + 1
    for a, b in reserved_ports(system.get("ipLocalReservedPorts", "")):
        a, b = max(a, lo), min(b, hi)
        if a <= b:
            size -= b - a + 1
    return lo, hi, max(0, size)


def host_of(used):
    """target.used (IP:PORT or [IPV6]:PORT) -> IP."""
    return used[1:used.index("]")] if used.startswith("[") else used.rsplit(":", 1)[0]


def census_errors(r):
    errs = []
    used_ips = {host_of(r["target"]["used"])}
    expected_ranges = {effective_range(r["system"], r["config"].get("localPorts"))}
    # A merged record: each host has its own range and may have resolved the target differently;
    # a host's second may begin up to 1 s before the wall-clock second it is merged into.
    hosts = r.get("hosts")
    slack_ms = 1000 if hosts else 0
    if hosts:
        used_ips |= {host_of(h["targetUsed"]) for h in hosts}
        expected_ranges = {(h["portBudget"]["rangeLow"], h["portBudget"]["rangeHigh"], h["portBudget"]["rangeSize"]) for h in hosts}
    censuses = [(i, s["kernel"]["census"]) for i, s in enumerate(r["timeline"]) if "census" in s.get("kernel", {})]
    start = r.get("kernelWitness", {}).get("startCensus")
    checked = [(None, start)] if start is not None else []
    for n, (i, c) in enumerate(censuses):
        where = f"/timeline/{i}/kernel/census"
        if c["atMs"] // 1000 != r["timeline"][i]["t"]:
            errs.append(f"{where}/atMs: {c['atMs']} ms is not in second t={r['timeline'][i]['t']}")
        if c["atMs"] > r["elapsedSeconds"] * 1000 + slack_ms + 0.01:
            errs.append(f"{where}/atMs: {c['atMs']} ms is after the end of the run ({r['elapsedSeconds']} s)")
        if c["trigger"] == "final" and n != len(censuses) - 1 and not hosts:
            errs.append(f"{where}/trigger: 'final' but a later census follows")
        if c["trigger"] == "start":
            errs.append(f"{where}/trigger: 'start' belongs to kernelWitness.startCensus only")
        checked.append((i, c))
    for i, c in checked:
        where = f"/timeline/{i}/kernel/census" if i is not None else "/kernelWitness/startCensus"
        if i is None and (c["trigger"] != "start" or c["atMs"] != 0):
            errs.append(f"{where}: a start census has trigger 'start' and atMs 0, not {c['trigger']!r} at {c['atMs']}")
        sources = [t["source"] for t in c["tuples"]]
        if sources != sorted(sources) or len(set(sources)) != len(sources):
            errs.append(f"{where}/tuples: sources not sorted or repeated: {sources}")
        for k, t in enumerate(c["tuples"]):
            tw = f"{where}/tuples/{k}"
            if t["destination"] not in used_ips or t["port"] != r["target"]["port"]:
                errs.append(f"{tw}: toward {t['destination']} port {t['port']}, target.used is {r['target']['used']}")
            try:
                if ipaddress.ip_address(t["source"]).version != ipaddress.ip_address(t["destination"]).version:
                    errs.append(f"{tw}: source {t['source']} and destination {t['destination']} differ in family")
            except ValueError:
                pass  # the schema reports malformed addresses
            lo, hi = t["rangeLow"], t["rangeHigh"]
            if lo > hi:
                errs.append(f"{tw}: rangeLow {lo} > rangeHigh {hi}")
                continue
            span = hi - lo + 1
            if (lo, hi, t["rangeSize"]) not in expected_ranges:
                want = " or ".join(f"{a}-{b} of {n}" for a, b, n in sorted(expected_ranges))
                errs.append(f"{tw}: range {lo}-{hi} of {t['rangeSize']} ports, but system and config.localPorts give {want}")
            if sum(t["buckets"]) != t["portsInUse"]:
                errs.append(f"{tw}/buckets: add up to {sum(t['buckets'])}, portsInUse is {t['portsInUse']}")
            if span < len(t["buckets"]):
                reachable = {o * len(t["buckets"]) // span for o in range(span)}
                stray = [b for b, v in enumerate(t["buckets"]) if v and b not in reachable]
                if stray:
                    errs.append(f"{tw}/buckets: slices {stray} hold ports but no port of {lo}-{hi} maps to them")
            if t["portsInUse"] > span:
                errs.append(f"{tw}/portsInUse: {t['portsInUse']} > the {span} ports of {lo}-{hi}")
            if t["portsInUse"] > sum(t["states"].values()):
                errs.append(f"{tw}/portsInUse: {t['portsInUse']} > the {sum(t['states'].values())} sockets in states")
            if "heldBefore" in t and (i is None or start is None):
                errs.append(f"{tw}/heldBefore: present without a start census to compare with")
            if t.get("heldBefore", 0) > t["portsInUse"]:
                errs.append(f"{tw}/heldBefore: {t['heldBefore']} > portsInUse {t['portsInUse']}")
    return errs


def invariant_errors(r, strict):
    errs = []
    totals, config = r["totals"], r["config"]
    outcomes = totals["outcomes"]

    if set(totals["causes"]) != set(outcomes):
        errs.append(f"/totals/causes: keys {sorted(totals['causes'])} differ from /totals/outcomes keys {sorted(outcomes)}")
    total = sum(outcomes.values())
    if totals["attempted"] != total + totals["inFlightAtEnd"]:
        errs.append(f"/totals: attempted {totals['attempted']} != sum(outcomes) {total} + inFlightAtEnd {totals['inFlightAtEnd']}")

    U64 = 2**64 - 1
    if totals["attempted"] + totals.get("missed", 0) > U64:
        errs.append(f"/totals: attempted + missed add up past 2^64-1")
    for i, s in enumerate(r["timeline"]):
        if s["ok"] + sum(s["failures"].values()) > U64:
            errs.append(f"/timeline/{i}: ok + failures add up past 2^64-1")

    summary, buckets = r["latency"]["connect"], r["latency"]["connectHistogram"]["buckets"]
    bucket_total = sum(b[1] for b in buckets)
    if bucket_total > 2**53:
        errs.append(f"/latency/connectHistogram: {bucket_total} connects, more than 2^53")
    if sum(b[0] * b[1] for b in buckets) > U64:
        errs.append(f"/latency/connectHistogram: count x value adds up past 2^64-1 us")
    if bucket_total != summary["count"]:
        errs.append(f"/latency: connectHistogram bucket counts add up to {bucket_total}, connect.count is {summary['count']}")
    for i in range(1, len(buckets)):
        if buckets[i][0] <= buckets[i - 1][0]:
            errs.append(f"/latency/connectHistogram/buckets/{i}: value {buckets[i][0]} does not ascend (previous {buckets[i - 1][0]})")
            break
    keys = ["min", "p50", "p90", "p99", "p999", "max"]
    if summary["count"] == 0:
        nonzero = [k for k in keys + ["mean"] if summary[k] != 0]
        if nonzero:
            errs.append(f"/latency/connect: count is 0 but {', '.join(nonzero)} not 0")
    else:
        values = [summary[k] for k in keys]
        if values != sorted(values):
            errs.append(f"/latency/connect: min <= p50 <= p90 <= p99 <= p999 <= max does not hold: {values}")
        if not summary["min"] <= summary["mean"] <= summary["max"] + 0.05:
            errs.append(f"/latency/connect: mean {summary['mean']} outside [min, max]")

    for i, s in enumerate(r["timeline"]):
        if s["t"] != i:
            errs.append(f"/timeline/{i}/t: is {s['t']}, expected {i}")
            break
    for i, s in enumerate(r["timeline"]):
        for name in ("connect", "handshake"):
            lat = s.get(f"{name}LatencyUs")
            if lat and not lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"]:
                errs.append(f"/timeline/{i}/{name}LatencyUs: p50 <= p90 <= p99 <= max does not hold: {lat}")
        if "handshakeBuckets" in s and "handshakes" in s and sum(b[1] for b in s["handshakeBuckets"]) != s["handshakes"]:
            errs.append(f"/timeline/{i}: handshakeBuckets add up to {sum(b[1] for b in s['handshakeBuckets'])}, handshakes is {s['handshakes']}")
    if sum(s.get("handshakes", 0) for s in r["timeline"]) > U64:
        errs.append("/timeline: handshakes add up past 2^64-1")

    if parse_date(r["endedAt"]) < parse_date(r["startedAt"]):
        errs.append(f"/endedAt: {r['endedAt']} is before startedAt {r['startedAt']}")
    lp = config.get("localPorts")
    if lp and lp["low"] > lp["high"]:
        errs.append(f"/config/localPorts: low {lp['low']} > high {lp['high']}")
    pr = r["system"].get("ipLocalPortRange")
    if pr and pr[0] > pr[1]:
        errs.append(f"/system/ipLocalPortRange: low {pr[0]} > high {pr[1]}")

    reason = r["stopReason"]
    if reason == "duration" and "durationSeconds" not in config:
        errs.append("/stopReason: 'duration' but config has no durationSeconds")
    if reason == "connections" and "connections" not in config:
        errs.append("/stopReason: 'connections' but config has no connections bound")
    if totals.get("requestedRate") != config.get("rate"):
        errs.append(f"/totals/requestedRate: {totals.get('requestedRate')} differs from /config/rate {config.get('rate')}")
    if "rate" not in config:
        if totals["delayed"] != 0 or totals["missed"] != 0:
            errs.append(f"/totals: delayed {totals['delayed']} and missed {totals['missed']} must be 0 without --rate")
        late = [i for i, s in enumerate(r["timeline"]) if s["delayed"] != 0]
        if late:
            errs.append(f"/timeline/{late[0]}/delayed: not 0 without --rate")

    if config["threads"] > config["concurrency"]:
        errs.append(f"/config/threads: {config['threads']} > concurrency {config['concurrency']} (no more threads than attempts in flight)")
    for i, note in enumerate(r["notes"]):
        m = re.match(r"ran (\d+) worker threads \(asked (\d+)\)", note)
        if m and (int(m[1]) != config["threads"] or int(m[2]) <= int(m[1])):
            errs.append(f"/notes/{i}: says {m[1]} threads ran (asked {m[2]}), config.threads is {config['threads']}")
        m = re.match(r"concurrency capped at (\d+) \(asked (\d+)\)", note)
        if m and (int(m[1]) != config["concurrency"] or int(m[2]) <= int(m[1])):
            errs.append(f"/notes/{i}: says concurrency capped at {m[1]} (asked {m[2]}), config.concurrency is {config['concurrency']}")
    errs += census_errors(r)

    if strict:
        tl = r["timeline"]
        n = sum(s["attempts"] for s in tl)
        if n != totals["attempted"]:
            errs.append(f"/timeline: attempts add up to {n}, totals.attempted is {totals['attempted']}")
        ok = sum(s["ok"] for s in tl)
        if ok != outcomes.get("ok", 0):
            errs.append(f"/timeline: ok adds up to {ok}, totals.outcomes.ok is {outcomes.get('ok', 0)}")
        failures = {}
        for s in tl:
            for k, v in s["failures"].items():
                failures[k] = failures.get(k, 0) + v
        expected = {k: v for k, v in outcomes.items() if k != "ok"}
        if failures != expected:
            errs.append(f"/timeline: failures add up to {failures}, totals.outcomes (ok excluded) is {expected}")
        d = sum(s["delayed"] for s in tl)
        if d != totals["delayed"]:
            errs.append(f"/timeline: delayed adds up to {d}, totals.delayed is {totals['delayed']}")
        if "tls" in r and all("handshakes" in s for s in tl):
            h = sum(s["handshakes"] for s in tl)
            if h != r["tls"]["handshakes"]:
                errs.append(f"/timeline: handshakes add up to {h}, tls.handshakes is {r['tls']['handshakes']}")
    return errs


def main(argv):
    flags = [a for a in argv if a.startswith("--")]
    args = [a for a in argv if not a.startswith("--")]
    if "--help" in flags or "-h" in args:
        print(__doc__.strip())
        return 0
    unknown = [f for f in flags if f not in ("--schema-only", "--strict")]
    if unknown:
        usage(f"unknown option {unknown[0]}")
    if "--schema-only" in flags and "--strict" in flags:
        usage("--schema-only and --strict exclude each other")
    if not 1 <= len(args) <= 2:
        usage()
    record_path = args[0]
    schema_path = args[1] if len(args) == 2 else DEFAULT_SCHEMA

    schema = load_json(schema_path, "schema")
    try:
        Draft202012Validator.check_schema(schema)
    except Exception as e:  # jsonschema.SchemaError
        print(f"validate-record.py: {schema_path} is not a valid draft 2020-12 schema: {e.message if hasattr(e, 'message') else e}",
              file=sys.stderr)
        return 2

    record = load_json(record_path, "record")
    if isinstance(record, Exception):
        print(f"{record_path}: INVALID: not valid JSON: {record}", file=sys.stderr)
        return 1

    errors = schema_errors(record, schema)
    if not errors and "--schema-only" not in flags:
        try:
            errors = invariant_errors(record, strict="--strict" in flags)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as e:
            # Only with a SCHEMA looser than run-record.schema.json: a field the checks need is missing or mistyped.
            errors = [f"(record): cannot check the invariants, the record lacks what they need ({type(e).__name__}: {e})"]
    if errors:
        print(f"{record_path}: INVALID ({len(errors)} problem{'s' if len(errors) != 1 else ''}):", file=sys.stderr)
        for e in errors:
            print(f"  {e}", file=sys.stderr)
        return 1
    print(f"{record_path}: valid {record.get('schema')} record")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
