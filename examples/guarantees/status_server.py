"""A stand-in for a service's status endpoint: serves a JSON document on 127.0.0.1:8765.
Run: python status_server.py (Ctrl-C to stop)."""

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATUS = {"service": "checkout", "latency_ms": {"p50": 180, "p95": 420}, "error_rate": 0.0012}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps(STATUS).encode()
        self.send_response(200 if self.path == "/status" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", 8765), Handler).serve_forever()
