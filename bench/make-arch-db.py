#!/usr/bin/env python3
"""Builds an Arch-scale pacman sync database for benchmarks.

Arch's repositories hold about 15,000 packages. This writes a sync database
of that size whose text is realistic: the names, versions, descriptions,
sizes and dependencies of this machine's real Debian packages (read with
`apt-cache dumpavail`), turned into pacman's `desc` format.

usage: make-arch-db.py OUT_DIR [COUNT]
  OUT_DIR/root/var/lib/pacman/{local,sync/bench.db}, OUT_DIR/pacman.conf
"""
import io
import os
import re
import subprocess
import sys
import tarfile

out = os.path.abspath(sys.argv[1])
count = int(sys.argv[2]) if len(sys.argv) > 2 else 15000

dump = subprocess.run(["apt-cache", "dumpavail"], capture_output=True, text=True, check=True).stdout
# The packages the benchmarks look up come first; then the others in order.
wanted = ["vim", "python3", "zstd", "git", "bash"]
stanzas = dump.split("\n\n")
stanzas.sort(key=lambda s: next((i for i, w in enumerate(wanted) if s.startswith(f"Package: {w}\n")), len(wanted)))
packages = []
seen = set()
for stanza in stanzas:
    fields = {}
    for line in stanza.splitlines():
        if line and not line[0].isspace() and ":" in line:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    name = fields.get("Package")
    if not name or name in seen or "Description" not in fields:
        continue
    seen.add(name)
    packages.append(fields)
    if len(packages) == count:
        break


def arch_version(debian):
    epoch, _, rest = debian.rpartition(":")
    upstream = rest.rsplit("-", 1)[0]
    upstream = re.sub(r"[^A-Za-z0-9._+]", ".", upstream) or "0"
    return (epoch + ":" if epoch else "") + upstream + "-1"


def deps(value):
    names = []
    for group in value.split(","):
        first = group.split("|")[0].strip()
        first = re.sub(r"\s*\(.*\)", "", first).split(":")[0]
        if first:
            names.append(first)
    return names


root = os.path.join(out, "root")
for sub in ["var/lib/pacman/local", "var/lib/pacman/sync", "var/cache/pacman/pkg"]:
    os.makedirs(os.path.join(root, sub), exist_ok=True)
with open(os.path.join(root, "var/lib/pacman/local/ALPM_DB_VERSION"), "w") as f:
    f.write("9\n")

buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w:gz") as tar:
    for p in packages:
        name, version = p["Package"], arch_version(p["Version"])
        lines = [
            "%FILENAME%", f"{name}-{version}-x86_64.pkg.tar.zst", "",
            "%NAME%", name, "",
            "%BASE%", p.get("Source", name).split()[0], "",
            "%VERSION%", version, "",
            "%DESC%", p["Description"], "",
            "%CSIZE%", p.get("Size", "0"), "",
            "%ISIZE%", str(int(p.get("Installed-Size", "0")) * 1024), "",
            "%URL%", p.get("Homepage", f"https://packages.debian.org/{name}"), "",
            "%ARCH%", "x86_64", "",
            "%BUILDDATE%", "1700000000", "",
            "%PACKAGER%", p.get("Maintainer", "Nobody"), "",
        ]
        depends = deps(p.get("Depends", ""))
        if depends:
            lines += ["%DEPENDS%", *depends, ""]
        provides = deps(p.get("Provides", ""))
        if provides:
            lines += ["%PROVIDES%", *provides, ""]
        data = ("\n".join(lines) + "\n").encode()
        info = tarfile.TarInfo(f"{name}-{version}/desc")
        info.size = len(data)
        info.mtime = 1700000000
        tar.addfile(info, io.BytesIO(data))
with open(os.path.join(root, "var/lib/pacman/sync/bench.db"), "wb") as f:
    f.write(buf.getvalue())

with open(os.path.join(out, "pacman.conf"), "w") as f:
    f.write(
        f"[options]\nRootDir = {root}\nDBPath = {root}/var/lib/pacman/\n"
        f"CacheDir = {root}/var/cache/pacman/pkg/\nLogFile = {root}/pacman.log\n"
        "Architecture = x86_64\nSigLevel = Never\n\n[bench]\nServer = file:///nonexistent\n"
    )
print(f"{len(packages)} packages in {root}/var/lib/pacman/sync/bench.db")
