"""A TCP server for NAT tests: each connection gets back the address and port the server saw it from.

Run on a lab host: `python3 peer_echo.py PORT HOLD`. Connections are served at the same time (a thread
each); every one is held HOLD seconds before the answer, so clients started together overlap.
"""
import socketserver
import sys
import time


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.recv(1024)       # read what the client sent: closing with unread data would reset
        time.sleep(float(sys.argv[2]))
        self.request.sendall(f"{self.client_address[0]} {self.client_address[1]}\n".encode())


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


Server(("0.0.0.0", int(sys.argv[1])), Handler).serve_forever()
