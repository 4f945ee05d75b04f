#!/usr/bin/env python3
"""An AUR for benchmarks: a metadata dump of 100,000 packages and a server
answering as aurweb does.

The dump (`packages-meta-ext-v1.json.gz`) has the shape of the recorded
AUR records in tests/fixtures/upstream/aur/rpc/info (every RPC field), with
the names, versions, descriptions and dependencies of this machine's real
Debian packages (`apt-cache dumpavail`), and -git/-bin variants of them as
the AUR has, up to COUNT packages. The server answers
`/packages-meta-ext-v1.json.gz` (with Last-Modified, 304 to
If-Modified-Since), `/rpc/v5/search/TERM?by=name-desc` (aurweb's
substring search over names and descriptions, the 5,000-result cap and
its error) and `/rpc/v5/info?arg[]=…`, from memory.

usage: aur.py make OUT_DIR [COUNT]
       aur.py serve OUT_DIR PORT
"""
import email.utils
import gzip
import http.server
import json
import os
import re
import subprocess
import sys
import urllib.parse


def debian_packages():
    dump = subprocess.run(["apt-cache", "dumpavail"], capture_output=True, text=True, check=True).stdout
    seen = set()
    for stanza in dump.split("\n\n"):
        fields = {}
        for line in stanza.splitlines():
            if line and not line[0].isspace() and ":" in line:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        name = fields.get("Package")
        if name and name not in seen and "Description" in fields:
            seen.add(name)
            yield fields


def deps(value):
    names = []
    for group in value.split(","):
        first = re.sub(r"\s*\(.*\)", "", group.split("|")[0].strip()).split(":")[0]
        if first:
            names.append(first)
    return names


def make(out, count):
    base = list(debian_packages())
    records = []
    for variant in ["", "-git", "-bin", "-nightly"]:
        for i, p in enumerate(base):
            if len(records) == count:
                break
            name = p["Package"] + variant
            upstream = re.sub(r"[^A-Za-z0-9._+]", ".", p.get("Version", "1").split(":")[-1].rsplit("-", 1)[0]) or "1"
            records.append({
                "ID": len(records) + 1,
                "Name": name,
                "PackageBaseID": len(records) + 1,
                "PackageBase": name,
                "Version": upstream + ("r1.g0000000" if variant == "-git" else "") + "-1",
                "Description": p["Description"],
                "URL": p.get("Homepage"),
                "NumVotes": (i * 7919) % 500,
                "Popularity": ((i * 104729) % 10000) / 1000.0,
                "OutOfDate": None if i % 17 else 1700000000,
                "Maintainer": None if i % 23 == 0 else "maintainer%d" % (i % 3000),
                "Submitter": "submitter%d" % (i % 3000),
                "FirstSubmitted": 1300000000 + i * 1000,
                "LastModified": 1700000000 + i * 100,
                "URLPath": "/cgit/aur.git/snapshot/%s.tar.gz" % name,
                "Depends": deps(p.get("Depends", "")),
                "MakeDepends": ["git"] if variant == "-git" else [],
                "OptDepends": deps(p.get("Suggests", ""))[:3],
                "Provides": [p["Package"]] if variant else [],
                "Conflicts": [p["Package"]] if variant else [],
                "License": ["GPL"],
                "Keywords": [],
                "CoMaintainers": [],
            })
    os.makedirs(out, exist_ok=True)
    with gzip.open(os.path.join(out, "packages-meta-ext-v1.json.gz"), "wt") as f:
        json.dump(records, f)
    print(len(records))


def serve(out, port):
    path = os.path.join(out, "packages-meta-ext-v1.json.gz")
    with open(path, "rb") as f:
        body = f.read()
    records = json.loads(gzip.decompress(body))
    by_name = {r["Name"]: r for r in records}
    short = [{k: v for k, v in r.items() if k not in ("Depends", "MakeDepends", "OptDepends", "CheckDepends",
                                                       "Provides", "Conflicts", "Replaces", "Groups",
                                                       "License", "Keywords", "CoMaintainers")}
             for r in records]
    modified = email.utils.formatdate(os.path.getmtime(path), usegmt=True)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, status, kind, data, headers=()):
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def rpc(self, kind, results, error=None):
            envelope = {"version": 5, "type": kind, "resultcount": len(results), "results": results}
            if error:
                envelope["error"] = error
            self.reply(200, "application/json", json.dumps(envelope).encode())

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            if url.path == "/packages-meta-ext-v1.json.gz":
                if self.headers.get("If-Modified-Since") == modified:
                    self.send_response(304)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                return self.reply(200, "application/gzip", body, [("Last-Modified", modified)])
            if url.path.startswith("/rpc/v5/search/"):
                term = urllib.parse.unquote(url.path[len("/rpc/v5/search/"):]).lower()
                found = [s for s in short
                         if term in s["Name"].lower() or term in (s["Description"] or "").lower()]
                if len(found) > 5000:
                    return self.rpc("error", [], "Too many package results.")
                return self.rpc("search", found)
            if url.path == "/rpc/v5/info":
                return self.rpc("multiinfo", [by_name[n] for n in query.get("arg[]", []) if n in by_name])
            self.reply(404, "text/plain", b"not found")

    http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Handler).serve_forever()


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 100000)
    elif sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
