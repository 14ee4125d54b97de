#!/usr/bin/env python3
"""Labels the lines the captures collected and writes reallogs.csv.

    python3 bench/reallogs/build.py RAWDIR [RAWDIR...] [-o bench/reallogs/reallogs.csv]

RAWDIRs are capture.sh's and capture-services.sh's raw directories. A program
that no given directory holds keeps its rows from the existing output, so one
capture can be regenerated alone (its own programs' rows are replaced, the
others' are kept, in the same order: the first capture's programs, then the
second's).

Each raw file is split into events (a line; for the two services of our own,
a line with the traceback or stack trace that follows it), each event gets
its program (the held-out unit of the benchmark) and source, and its label
comes from the first row of templates.tsv whose program matches and whose
regular expression is found in the line. The table was written by hand, one
row per distinct template, each with a one-line justification that names the
scenario that caused it. An event no row matches is an error: the table must
cover everything captured.
"""
import argparse
import csv
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SYSLOG = re.compile(r"^\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ ([^:\[ ]+)(?:\[\d+\])?:")
# Which program a syslog tag belongs to (the unit held out by the splits).
PROGRAM_OF_TAG = {
    "useradd": "shadow", "usermod": "shadow", "userdel": "shadow", "groupadd": "shadow", "groupdel": "shadow",
    "gpasswd": "shadow", "chpasswd": "shadow", "passwd": "shadow", "CRON": "cron", "cron": "cron",
}
# Ansible's modules log to syslog under a tag of their own (ansible-ansible.builtin.file).
PROGRAM_OF_TAG_PREFIX = {"ansible-": "ansible"}


def program_of(tag):
    """The program a syslog tag (without its pid) belongs to."""
    return next((p for pre, p in PROGRAM_OF_TAG_PREFIX.items() if tag.startswith(pre)), PROGRAM_OF_TAG.get(tag, tag))
FILES = {
    "sshd-stderr.log": ("sshd", "sshd"),
    "nginx-access.log": ("nginx", "nginx"),
    "nginx-error.log": ("nginx", "nginx"),
    "apache-access.log": ("apache2", "apache2"),
    "apache-error.log": ("apache2", "apache2"),
    "postgresql.log": ("postgresql", "postgres"),
    "redis.log": ("redis", "redis"),
    "vsftpd.log": ("vsftpd", "vsftpd"),
    "shopd.log": ("shopd", "shopd"),
    "billing.log": ("billing", "billing"),
    # capture-services.sh
    "mariadb.log": ("mariadb", "mariadbd"),
    "dovecot.log": ("dovecot", "dovecot"),
    "fail2ban.log": ("fail2ban", "fail2ban"),
    "squid-access.log": ("squid", "squid"),
    "squid-cache.log": ("squid", "squid"),
    "lighttpd-access.log": ("lighttpd", "lighttpd"),
    "lighttpd-error.log": ("lighttpd", "lighttpd"),
    "php-fpm.log": ("php-fpm", "php-fpm"),
    "php-errors.log": ("php-fpm", "php"),
    "php-slow.log": ("php-fpm", "php-fpm"),
    "mosquitto.log": ("mosquitto", "mosquitto"),
    "openvpn.log": ("openvpn", "openvpn"),
    "slapd.log": ("slapd", "slapd"),
    "celery.log": ("celery", "celery"),
    "ansible.log": ("ansible", "ansible"),
    "rabbitmq.log": ("rabbitmq", "rabbitmq"),
    "rsyncd.log": ("rsync", "rsyncd"),
    "supervisord.log": ("supervisord", "supervisord"),
    "gunicorn.log": ("gunicorn", "gunicorn"),
    "gunicorn-access.log": ("gunicorn", "gunicorn"),
}
# Events that span lines: a traceback or stack trace after its line (our
# services, Celery, gunicorn, PHP), a line that starts the next event (the
# file's own timestamp), and tab-indented continuation lines (PostgreSQL's
# autovacuum figures, slapd's banner).
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
BRACKET_ISO = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
PHP_TIME = re.compile(r"^\[\d\d-\w{3}-\d{4} \d\d:\d\d:\d\d")
MULTILINE = {
    "shopd.log": ISO_TIME, "billing.log": ISO_TIME, "mariadb.log": ISO_TIME, "ansible.log": ISO_TIME,
    "celery.log": BRACKET_ISO, "gunicorn.log": BRACKET_ISO, "php-errors.log": PHP_TIME, "php-slow.log": PHP_TIME,
}
CONTINUED = {"postgresql.log", "slapd.log"}


def events(path: Path):
    lines = path.read_text(errors="replace").splitlines()
    multiline = MULTILINE.get(path.name)
    if not multiline and path.name not in CONTINUED:
        yield from (l for l in lines if l.strip())
        return
    cur = None
    for l in lines:
        if not l.strip():
            continue
        starts = multiline.match(l) if multiline else not l[:1].isspace()
        if starts or cur is None:
            if cur is not None:
                yield cur
            cur = l
        else:
            cur += "\n" + l
    if cur is not None:
        yield cur


def records(raw: Path):
    for p in sorted(raw.iterdir()):
        if p.name == "syslog.log":
            for line in events(p):
                m = SYSLOG.match(line)
                tag = m.group(1) if m else "?"
                base = tag.split("/")[0]
                program = program_of(base)
                yield program, tag if "/" not in tag else base, line, p.name
        elif p.name in FILES:
            program, source = FILES[p.name]
            for line in events(p):
                yield program, source, line, p.name
        else:
            print(f"build.py: {p.name}: not a known capture file; skipped", file=sys.stderr)


def load_table(path: Path):
    rows = []
    with path.open(newline="") as f:
        for i, r in enumerate(csv.DictReader((l for l in f if not l.startswith("#")), delimiter="\t"), start=2):
            try:
                rows.append((r["id"], r["program"], re.compile(r["regex"]), r["label"], r["why"]))
            except re.error as e:
                sys.exit(f"{path}:{i}: bad regex: {e}")
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("raw", type=Path, nargs="+")
    ap.add_argument("-o", "--output", type=Path, default=HERE / "reallogs.csv")
    ap.add_argument("--table", type=Path, default=HERE / "templates.tsv")
    args = ap.parse_args()
    table = load_table(args.table)
    out, missing, used = [], {}, {}
    captured = [r for raw in args.raw for r in records(raw)]
    programs = {r[0] for r in captured}
    if args.output.exists():
        with args.output.open(newline="") as f:
            kept = [r for r in csv.DictReader(f) if r["program"] not in programs]
        if kept:
            print(f"build.py: keeping {len(kept)} rows of {len({r['program'] for r in kept})} programs no given capture holds", file=sys.stderr)
        out.extend(kept)
        for r in kept:
            used[r["template_id"]] = used.get(r["template_id"], 0) + 1
    for program, source, line, file in captured:
        hit = next((t for t in table if t[1] == program and t[2].search(line)), None)
        if hit is None:
            missing.setdefault(program, []).append(line)
            continue
        used[hit[0]] = used.get(hit[0], 0) + 1
        out.append({"program": program, "source": source, "log_message": line, "target_label": hit[3], "template_id": hit[0]})
    if missing:
        for program, lines in missing.items():
            print(f"--- {program}: {len(lines)} lines match no template", file=sys.stderr)
            for l in lines[:8]:
                print("   ", l[:220].replace("\n", " | "), file=sys.stderr)
        sys.exit(1)
    unused = [t[0] for t in table if t[0] not in used]
    if unused:
        print(f"build.py: templates never seen in this capture: {', '.join(unused)}", file=sys.stderr)
    with args.output.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["program", "source", "log_message", "target_label", "template_id"])
        w.writeheader()
        w.writerows(out)
    by_label = {}
    for r in out:
        s = by_label.setdefault(r["target_label"], {})
        s[r["program"]] = s.get(r["program"], 0) + 1
    print(f"{len(out)} lines, {len({r['program'] for r in out})} programs, {len(used)} templates -> {args.output}", file=sys.stderr)
    for label, per in sorted(by_label.items()):
        print(f"  {label}: {sum(per.values())} lines from {len(per)} programs ({', '.join(f'{p} {n}' for p, n in sorted(per.items()))})", file=sys.stderr)


if __name__ == "__main__":
    main()
