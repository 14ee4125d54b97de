#!/usr/bin/env python3
"""A realistic stream: the real-log benchmark's events replayed with fresh
variable values, for throughput and template-count measurements.

    python3 bench/reallogs/stream.py N OUT.csv [--seed S] [--programs sshd,nginx,...]

Each output row is an event of reallogs.csv (drawn with its frequency) whose
variable parts are renewed as a long-running machine renews them:

* users: the capture's user names are replaced from a pool that gains a new
  user for 1 line in 500 (names like `kmorgan17`);
* hosts: IPv4 addresses from a pool that gains a new host for 1 line in 100;
* ports, pids, sizes, durations and other numbers: fresh on every line;
* hex ids (postfix queue ids, session ids): fresh on every line;
* times of day: a clock that advances 0.1 s a line, in each line's own format.

Columns: source, log_message, program, target_label (the event's hand label).
Nothing is copied from elsewhere: the events are the capture's own.
"""

import argparse
import csv
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# The capture's user names (scenario accounts and service users). No word
# the programs print themselves: haproxy's "0 backup servers left" is text.
USERS = ["alice", "bob", "carol", "dave", "erin", "mallory", "eve", "trent", "auditor", "priya", "deploy", "oscar", "ftpuser"]
SYLL = ["ka", "mo", "ri", "ta", "len", "dor", "vin", "sa", "pe", "lu", "gan", "ne", "ro", "bi", "ch", "st"]

IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
HEXID = re.compile(r"\b(?=[0-9A-F]*[A-F])(?=[0-9A-F]*\d)[0-9A-F]{8,16}\b")
TIME = re.compile(r"\b([01]\d|2[0-3]):([0-5]\d):([0-5]\d)\b")
# Numbers that vary in a real stream (pids, ports, connection, order and
# invoice numbers, durations, sizes); status codes and line numbers of
# configuration files stay as they are.
NUMS = [re.compile(p) for p in (
    r"(?<=\[)\d+(?=\])",              # sshd[1234], [8810]
    r"(?<=port )\d+",
    r"\d+(?=#\d+: )|(?<=#)\d+(?=: )",    # nginx 31371#31371:
    r"^\d+(?=:[MSCX] )",                # redis 31484:S
    r"(?<=\*)\d+(?= )",                # nginx *154
    r"(?<=order )\d+|(?<=INV-)\d+",
    r"(?<=duration: )[\d.]+|(?<=session time: )[\d:.]+",
    r"(?<=pid )\d+|(?<=process )\d+",
    r"(?<=size=)\d+|(?<=nrcpt=)\d+|(?<=uid=)\d+",
)]
USER = re.compile(r"\b(" + "|".join(USERS) + r")\b")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--programs", help="only these programs' events (comma-separated; default all)")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    events = list(csv.DictReader(open(os.path.join(HERE, "reallogs.csv"), newline="")))
    if a.programs:
        keep = set(a.programs.split(","))
        events = [e for e in events if e["program"] in keep]
    users = list(USERS)
    hosts = ["127.0.0.1", "10.0.0.5", "192.168.1.20"]
    clock = 19 * 3600.0

    def fresh_number(old):
        if not old.replace(".", "").replace(":", "").isdigit():
            return old
        return "".join(rng.choice("0123456789") if ch.isdigit() else ch for ch in old).lstrip("0") or "0"

    def new_user():
        return "".join(rng.choice(SYLL) for _ in range(rng.randint(2, 3))) + str(rng.randint(1, 99))

    with open(a.out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["source", "log_message", "program", "target_label"])
        for _ in range(a.n):
            e = rng.choice(events)
            if rng.random() < 1 / 500:
                users.append(new_user())
            if rng.random() < 1 / 100:
                hosts.append(".".join(str(rng.randint(1, 254)) for _ in range(4)))
            clock = (clock + 0.1) % 86400
            hh, mm, ss = int(clock // 3600), int(clock % 3600 // 60), int(clock % 60)
            user = rng.choice(users)
            host = rng.choice(hosts)
            m = e["log_message"]
            m = TIME.sub(f"{hh:02}:{mm:02}:{ss:02}", m)
            m = IPV4.sub(host, m)
            m = HEXID.sub(lambda x: "".join(rng.choice("0123456789ABCDEF") for _ in x.group(0)), m)
            for num in NUMS:
                m = num.sub(lambda x: fresh_number(x.group(0)), m)
            m = USER.sub(user, m)
            w.writerow([e["source"], m, e["program"], e["target_label"]])


if __name__ == "__main__":
    sys.exit(main())
