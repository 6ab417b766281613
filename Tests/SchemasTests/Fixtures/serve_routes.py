#!/usr/bin/env python3
"""Serves fixed JSON bodies over plain HTTP on 127.0.0.1 for the kubectl explain test.

Usage: serve_routes.py ROUTES_JSON
ROUTES_JSON maps request paths (query ignored) to response bodies (strings). The chosen port is
printed on the first line of stdout; the server runs until killed. Unknown paths get a 404 Status.
"""

import http.server
import json
import sys
import urllib.parse


def main():
    with open(sys.argv[1], encoding="utf-8") as handle:
        routes = {path: body.encode("utf-8") for path, body in json.load(handle).items()}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            path = urllib.parse.urlsplit(self.path).path
            body = routes.get(path)
            status = 200
            if body is None:
                status = 404
                body = json.dumps({
                    "kind": "Status", "apiVersion": "v1", "status": "Failure",
                    "reason": "NotFound", "code": 404, "message": "the server could not find the requested resource",
                }).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):
            sys.stderr.write("%s\n" % (format % args))

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
