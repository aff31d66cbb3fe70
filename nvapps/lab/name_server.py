"""A TCP and UDP server for load balancer tests: every connection or datagram gets back the server's name.

Run on a lab host: `python3 name_server.py NAME PORT`.
"""
import socketserver
import sys
import threading

NAME, PORT = sys.argv[1].encode(), int(sys.argv[2])


class Tcp(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.sendall(NAME + b"\n")


class Udp(socketserver.BaseRequestHandler):
    def handle(self):
        self.request[1].sendto(NAME + b"\n", self.client_address)


class TcpServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


udp = socketserver.UDPServer(("0.0.0.0", PORT), Udp)
threading.Thread(target=udp.serve_forever, daemon=True).start()
TcpServer(("0.0.0.0", PORT), Tcp).serve_forever()
