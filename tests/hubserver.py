"""A real HTTP server on 127.0.0.1 that speaks the Hugging Face API shape, and misbehaves on request.

Endpoints, as huggingface.co answers them:

* ``GET /api/models/<repo>/revision/<rev>`` -> ``{"id", "sha", "siblings"}``
* ``GET /api/models/<repo>/tree/<rev>?recursive=true[&cursor=N]`` -> a page of
  ``{"type", "path", "size", "oid"[, "lfs": {"oid", "size", "pointerSize"}]}``
  entries, with ``Link: <...>; rel="next"`` while more pages remain
* ``GET /<repo>/resolve/<rev>/<path>``: small files directly; LFS files are a
  302 to ``/cdn/<sha256>`` (as the hub sends them to its CDN). Range requests
  are honoured with 206.

Faults (attributes of :class:`HubServer`, changed by tests):

* ``drop``: {path: n} -- the first full request of ``path`` sends n bytes, then hangs up
* ``wrong``: {path} -- serve ``path`` with one byte flipped
* ``html_api``: every API call answers a 200 captive-portal page
* ``html_files``: {path} -- ``path`` answers a 200 HTML page
* ``ignore_range``: answer 200 with the whole file even to Range requests
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LFS_MIN = 1024  # files at least this big are LFS files, as in Immich's repositories
PORTAL = b"<!DOCTYPE html><html><body><h1>Welcome to Airport WiFi</h1>Please log in.</body></html>"


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class HubServer:
    def __init__(self, page_size: int = 3):
        self.repos: dict[str, dict] = {}
        self.page_size = page_size
        self.requests: list[tuple[str, str | None]] = []
        self.drop: dict[str, int] = {}
        self.wrong: set[str] = set()
        self.html_api = False
        self.html_files: set[str] = set()
        self.ignore_range = False
        self._dropped: set[str] = set()
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> "HubServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def add_repo(self, repo: str, folder: Path, commit: str = "c0ffee" * 6 + "abcd", extra: dict[str, bytes] | None = None):
        """Serve every file under ``folder`` (plus ``extra``) as ``repo`` at ``commit``."""
        files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
        files.update(extra or {})
        self.repos[repo] = {"commit": commit, "files": files}

    def file_requests(self, path: str) -> list[str | None]:
        """Range headers of the requests that got ``path``'s bytes (the CDN's, for LFS files).

        An LFS file's Range header reaching the CDN shows it survived the redirect.
        """
        out = []
        for repo in self.repos.values():
            data = repo["files"].get(path)
            if data is None:
                continue
            target = f"/cdn/{hashlib.sha256(data).hexdigest()}" if len(data) >= LFS_MIN else None
            for url, rng in self.requests:
                if (target and url == target) or (not target and "/resolve/" in url and url.endswith("/" + path)):
                    out.append(rng)
        return out

    # -- the handler ---------------------------------------------------------

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                with server._lock:
                    server.requests.append((self.path, self.headers.get("Range")))
                url = urllib.parse.urlsplit(self.path)
                path = urllib.parse.unquote(url.path)
                query = urllib.parse.parse_qs(url.query)
                m = re.fullmatch(r"/api/models/([^/]+/[^/]+)/(revision|tree)/([^/]+)", path)
                if m:
                    return self.api(m.group(1), m.group(2), m.group(3), query)
                m = re.fullmatch(r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path)
                if m:
                    return self.resolve(m.group(1), m.group(2), m.group(3))
                m = re.fullmatch(r"/cdn/([0-9a-f]{64})", path)
                if m:
                    for repo in server.repos.values():
                        for name, data in repo["files"].items():
                            if hashlib.sha256(data).hexdigest() == m.group(1):
                                return self.send_file(name, data)
                self.send_plain(404, b'{"error": "Repository not found"}', "application/json")

            def send_plain(self, code, body, ctype):
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def api(self, repo, kind, rev, query):
                if server.html_api:
                    return self.send_plain(200, PORTAL, "text/html; charset=utf-8")
                r = server.repos.get(repo)
                if r is None or rev not in ("main", r["commit"]):
                    return self.send_plain(404, b'{"error": "Repository not found"}', "application/json")
                files = r["files"]
                if kind == "revision":
                    body = {"id": repo, "sha": r["commit"], "siblings": [{"rfilename": n} for n in files]}
                    return self.send_plain(200, json.dumps(body).encode(), "application/json")
                entries = []
                for d in sorted({n.rsplit("/", 1)[0] for n in files if "/" in n}):
                    entries.append({"type": "directory", "oid": "0" * 40, "size": 0, "path": d})
                for name, data in files.items():
                    e = {"type": "file", "oid": git_blob_sha1(data), "size": len(data), "path": name}
                    if len(data) >= LFS_MIN:
                        e["oid"] = hashlib.sha1(name.encode()).hexdigest()  # the pointer's blob
                        e["size"] = len(data)
                        e["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
                    entries.append(e)
                start = int(query.get("cursor", ["0"])[0])
                page = entries[start : start + server.page_size]
                body = json.dumps(page).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if start + server.page_size < len(entries):
                    nxt = f"{server.url}/api/models/{repo}/tree/{rev}?recursive=true&cursor={start + server.page_size}"
                    self.send_header("Link", f'<{nxt}>; rel="next"')
                self.end_headers()
                self.wfile.write(body)

            def resolve(self, repo, rev, name):
                r = server.repos.get(repo)
                if r is None or rev not in ("main", r["commit"]) or name not in r["files"]:
                    return self.send_plain(404, b"Entry not found", "text/plain")
                data = r["files"][name]
                if name in server.html_files:
                    return self.send_plain(200, PORTAL, "text/html; charset=utf-8")
                if len(data) >= LFS_MIN:
                    self.send_response(302)
                    self.send_header("Location", f"/cdn/{hashlib.sha256(data).hexdigest()}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                return self.send_file(name, data)

            def send_file(self, name, data):
                if name in server.wrong:
                    data = bytearray(data)
                    data[len(data) // 2] ^= 0x55
                    data = bytes(data)
                start = 0
                rng = self.headers.get("Range")
                m = re.fullmatch(r"bytes=(\d+)-", rng or "")
                if m and not server.ignore_range:
                    start = int(m.group(1))
                body = data[start:]
                self.send_response(206 if start else 200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.end_headers()
                cut = server.drop.get(name)
                if cut is not None and name not in server._dropped and not start:
                    server._dropped.add(name)
                    self.wfile.write(body[:cut])
                    self.wfile.flush()
                    self.close_connection = True
                    return None
                self.wfile.write(body)
                return None

        return Handler
