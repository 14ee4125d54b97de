"""shopd: a small order service, run by capture.sh. It processes a batch of
orders (some deliberately bad), and logs what happens the way a Python
service does: the logging module, warnings captured, tracebacks of what it
raises. Nothing here prints a canned line for a label; the lines come from
the work and from Python's own exceptions."""
import argparse
import json
import logging
import random
import resource
import time
import warnings
from decimal import Decimal, InvalidOperation

log = logging.getLogger("shopd")


def legacy_discount(total):
    warnings.warn("legacy_discount() is deprecated and will be removed in shopd 2.0; use pricing.discount()", DeprecationWarning, stacklevel=2)
    return total * Decimal("0.95")


def load_config(cfg):
    for old, new in (("smtp_host", "mail.host"), ("use_v1_tax", "tax.api_version")):
        if old in cfg:
            log.warning("config key '%s' is deprecated, use '%s' instead", old, new)


def process(order, users):
    oid = order["id"]
    if not order.get("address"):
        log.error("order %s cannot be fulfilled: no shipping address on file", oid)
        return
    if order.get("coupon") == "SPRING" and order["total"] > 500:
        log.error("order %s blocked: approval required for coupon %s above 500.00, no approver assigned", oid, order["coupon"])
        return
    try:
        total = Decimal(order["total_text"])
    except InvalidOperation:
        log.exception("order %s: cannot parse total %r", oid, order["total_text"])
        return
    if order.get("legacy"):
        total = legacy_discount(total)
    try:
        per_item = total / order["items"]
    except ZeroDivisionError:
        log.exception("order %s: pricing failed", oid)
        return
    user = users.get(order["user"])
    if user is None:
        log.error("order %s refers to unknown customer %s; refund workflow cannot start", oid, order["user"])
        return
    log.info("order %s shipped to %s (%d items, %.2f each)", oid, order["user"], order["items"], per_item)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--round", type=int, default=1)
    args = ap.parse_args()
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    logging.captureWarnings(True)
    warnings.simplefilter("always", DeprecationWarning)
    rnd = random.Random(args.round)
    log.info("shopd 1.4.%d starting, pid %d", args.round, __import__("os").getpid())
    load_config({"smtp_host": "localhost", "use_v1_tax": True, "workers": 2})
    users = {u: {"name": u} for u in ("alice", "bob", "carol")}
    for action in ("exported the orders report as csv", "changed notification settings", "signed in", "signed out", "updated the shipping address"):
        log.info("user %s %s", rnd.choice(list(users)), action)
    orders = []
    for i in range(12):
        o = {"id": 1000 + args.round * 100 + i, "user": rnd.choice(["alice", "bob", "carol", "zed"]), "items": rnd.choice([1, 2, 3, 0]),
             "total": rnd.randint(10, 900), "address": rnd.random() > 0.25, "coupon": rnd.choice(["", "SPRING"]), "legacy": rnd.random() > 0.6}
        o["total_text"] = rnd.choice([str(o["total"]), str(o["total"]) + ".50", "12,50", "N/A"]) if rnd.random() > 0.2 else str(o["total"])
        orders.append(o)
    for o in orders:
        process(o, users)
    try:
        json.loads('{"payment": "ok", "amount": 12.5,}')
    except json.JSONDecodeError:
        log.exception("payment callback rejected: body is not valid JSON")
    try:
        {"eur": 1.0}["usd"]
    except KeyError:
        log.exception("currency conversion failed for order %s", orders[0]["id"])
    usage = resource.getrusage(resource.RUSAGE_SELF)
    log.info("worker memory %.1f MB (max rss), cpu %.2f s user, queue depth %d orders", usage.ru_maxrss / 1024, usage.ru_utime, rnd.randint(20, 400))
    if rnd.random() > 0.3:
        log.warning("disk usage of /var/lib/shopd at %d%%, above the 85%% watermark", rnd.randint(86, 97))
    t = time.time()
    sum(range(200000))
    log.info("nightly report job finished in %.2f s", time.time() - t)
    if args.round % 2 == 1:
        try:
            with open("/nonexistent/shopd/ledger.db", "rb") as f:
                f.read()
        except OSError:
            log.critical("order ledger unavailable; shopd cannot take orders and is shutting down", exc_info=True)
            return
    log.info("shopd stopping")


if __name__ == "__main__":
    main()
