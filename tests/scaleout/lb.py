"""A minimal round-robin HTTP load balancer for tests/scaleout/replicas.sh.

It stands in for the operator's load balancer (caddy, nginx, haproxy — see docs/deploy.md):
the hub replicas are started with --public-url pointing here, so signer identities and the
trust config URL are the load balancer's, as in a real deployment. A backend that refuses
the connection is skipped (the request was not delivered, so retrying elsewhere is safe);
any other failure is answered 502. Test-sized bodies only (read whole, sent with
Content-Length).

usage: python3 lb.py PORT_FILE BACKEND_URL...   (prints nothing; writes its port to PORT_FILE)
"""

import http.client
import http.server
import itertools
import os
import sys
import threading
import urllib.parse

BACKENDS = [urllib.parse.urlsplit(u) for u in sys.argv[2:]]
_next = itertools.count()
_lock = threading.Lock()
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
       "proxy-authorization", "proxy-authenticate", "content-length"}


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _handle(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        with _lock:
            start = next(_next)
        for k in range(len(BACKENDS)):
            b = BACKENDS[(start + k) % len(BACKENDS)]
            conn = http.client.HTTPConnection(b.hostname, b.port, timeout=120)
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
            except ConnectionRefusedError:
                conn.close()
                continue
            try:
                resp = conn.getresponse()
                data = resp.read()
            except OSError as e:
                conn.close()
                self.send_error(502, f"backend {b.netloc}: {e}")
                return
            conn.close()
            self.send_response(resp.status, resp.reason)
            for k2, v in resp.getheaders():
                if k2.lower() not in HOP:
                    self.send_header(k2, v)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-Backend", b.netloc)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            return
        self.send_error(503, "no backend accepted the connection")

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _handle

    def log_message(self, *args):
        pass


def main():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    srv.daemon_threads = True
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
