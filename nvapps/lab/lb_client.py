"""A load balancer test client: N TCP connections (or UDP datagrams) to ADDRESS:PORT, each from a new source
port; prints how many answers each server name gave (JSON), and "-" for those that got none. Answers must
come from ADDRESS:PORT (the VIP), never from a member's own address.

Run on a lab host: `python3 lb_client.py tcp|udp ADDRESS PORT N`.
"""
import collections
import json
import socket
import sys

PROTOCOL, ADDRESS, PORT, COUNT = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
seen: collections.Counter[str] = collections.Counter()
for _ in range(COUNT):
    kind = socket.SOCK_STREAM if PROTOCOL == "tcp" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, kind) as s:
        s.settimeout(2.0)
        try:
            s.connect((ADDRESS, PORT))      # UDP too: only answers from ADDRESS:PORT are taken
            if PROTOCOL == "udp":
                s.send(b"?")
            seen[s.recv(100).decode().strip() or "-"] += 1
        except OSError:
            seen["-"] += 1
print(json.dumps(seen))
