"""A small WSGI inventory service of our own, served by gunicorn in
capture-services.sh. It does real work on bad input: an id that is not a
number raises, an unknown id is a 404, the export is slower than gunicorn's
worker timeout."""
import json
import logging
import time

log = logging.getLogger("inventory")
ITEMS = {7: {"sku": "sku-7", "qty": 12}, 8: {"sku": "sku-8", "qty": 0}}


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    method = environ.get("REQUEST_METHOD", "GET")
    if path in ("/", "/health"):
        return reply(start_response, "200 OK", {"ok": True})
    if path.startswith("/items/"):
        item_id = int(path.rsplit("/", 1)[1])  # /items/x raises ValueError: gunicorn logs it
        if item_id not in ITEMS:
            return reply(start_response, "404 Not Found", {"error": "no such item"})
        return reply(start_response, "200 OK", ITEMS[item_id])
    if path == "/items" and method == "POST":
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)).decode()
        if "sku=" in body and not body.split("sku=", 1)[1]:
            return reply(start_response, "422 Unprocessable Entity", {"error": "empty sku"})
        return reply(start_response, "201 Created", {"ok": True})
    if path == "/report":
        total = sum(v["qty"] for v in ITEMS.values()) / len([v for v in ITEMS.values() if v["qty"] > 10 ** 6])
        return reply(start_response, "200 OK", {"total": total})
    if path == "/export":
        time.sleep(6)
        return reply(start_response, "200 OK", {"rows": len(ITEMS)})
    return reply(start_response, "404 Not Found", {"error": "not found"})


def reply(start_response, status, body):
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]
