"""Celery tasks of a small order pipeline (reserve -> charge -> ship), run by
a real Celery worker on Redis in capture-services.sh. Bad orders make the
pipeline stop the way real ones do: a task raises, Celery logs the failure
with its traceback, and the chain goes no further."""
import random
import time

from celery import Celery, chain

app = Celery("shoptasks", broker="redis://127.0.0.1:6390/0", backend="redis://127.0.0.1:6390/1")
app.conf.update(task_acks_late=True, worker_hijack_root_logger=True, result_expires=600)

STOCK = {"sku-1": 40, "sku-2": 3, "sku-3": 0}


class OutOfStock(Exception):
    pass


class PaymentDeclined(Exception):
    pass


class MissingAddress(Exception):
    pass


@app.task
def reserve(order):
    if STOCK.get(order["sku"], 0) < order["qty"]:
        raise OutOfStock(f"order {order['id']}: {order['qty']} x {order['sku']} requested, {STOCK.get(order['sku'], 0)} in stock; fulfilment cannot continue")
    return order


@app.task(bind=True, max_retries=2, default_retry_delay=1)
def charge(self, order):
    if order.get("card") == "expired":
        raise PaymentDeclined(f"order {order['id']}: card ending {order['last4']} expired; payment step cannot complete")
    if order.get("card") == "gateway-timeout":
        raise self.retry(exc=TimeoutError(f"payment gateway did not answer for order {order['id']}"))
    return order


@app.task
def ship(order):
    if not order.get("address"):
        raise MissingAddress(f"order {order['id']} has no shipping address; shipment cannot be scheduled")
    return f"order {order['id']} shipped"


@app.task
def slow_export(n):
    time.sleep(n)
    return n


@app.task
def recompute_totals(ids):
    return sum(int(i) for i in ids)


def submit(round_no):
    rng = random.Random(round_no)
    orders = [
        {"id": 1000 + 10 * round_no + 1, "sku": "sku-1", "qty": 1, "card": "ok", "last4": "4242", "address": "1 Main St"},
        {"id": 1000 + 10 * round_no + 2, "sku": "sku-3", "qty": 1, "card": "ok", "last4": "1881", "address": "9 Elm St"},
        {"id": 1000 + 10 * round_no + 3, "sku": "sku-1", "qty": 2, "card": "expired", "last4": str(rng.randint(1000, 9999)), "address": "3 Oak St"},
        {"id": 1000 + 10 * round_no + 4, "sku": "sku-2", "qty": 1, "card": "ok", "last4": "5100", "address": ""},
        {"id": 1000 + 10 * round_no + 5, "sku": "sku-1", "qty": 1, "card": "gateway-timeout", "last4": "3005", "address": "5 Pine St"},
        {"id": 1000 + 10 * round_no + 6, "sku": "sku-2", "qty": 1, "card": "ok", "last4": "7777", "address": "8 Birch St"},
    ]
    for o in orders:
        chain(reserve.s(o), charge.s(), ship.s()).delay()
    recompute_totals.delay(["1", "2", "x"])
    recompute_totals.delay(["4", "5"])
    time.sleep(4)
