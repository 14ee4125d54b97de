"""A small AMQP client for capture-services.sh: log in to RabbitMQ as USER
with PASSWORD and publish a few messages, or connect and drop the socket
without closing the connection (what a crashed client does).

    amqp_client.py USER PASSWORD publish|drop
"""
import os
import sys

import amqp


def main():
    user, password, what = sys.argv[1:4]
    conn = amqp.Connection("127.0.0.1:5673", userid=user, password=password, connect_timeout=5)
    conn.connect()
    ch = conn.channel()
    ch.queue_declare("orders", durable=False, auto_delete=False)
    for i in range(3):
        ch.basic_publish(amqp.Message(f"order {i}"), routing_key="orders")
    if what == "drop":
        os._exit(0)
    conn.close()


if __name__ == "__main__":
    main()
