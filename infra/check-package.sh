#!/usr/bin/env bash
# Checks a Functions deployment package before anything uploads it:
#
#   bash infra/check-package.sh [ZIP]      (default dist/huntwatch.zip)
#
# The package must hold exactly host.json, function/function.json and huntwatch at its root, and
# optionally the users' own hunts under hunts/ (infra/package.sh with HUNTS_DIR): *.yaml or *.yml
# files, in subfolders too, no name starting with "." (the hunt loader skips those), and nothing else
# under hunts/. Then:
#   - huntwatch is a Linux x86-64 ELF executable with unix mode 0755 stored in the archive. Flex
#     Consumption mounts the package read-only, so nothing can chmod it later; a zip written on
#     Windows carries no unix mode and the host cannot start the binary.
#   - host.json starts it: customHandler.description.defaultExecutablePath "huntwatch", first
#     argument "serve".
#   - function/function.json is a timer trigger without runOnStartup (on Flex, runOnStartup fires on
#     every scale-out and restart).
#   - every hunts/ file is a regular file readable by all (mode 0644, as package.sh stores it), and
#     every folder entry is readable and searchable by all (0755): the mount is read-only.
#
# Every problem is printed; the exit status is 1 if there is any. Used by infra/package.sh (on the
# zip it just wrote) and infra/deploy.sh (before the upload). Needs python3.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
zip_path="${1:-$root/dist/huntwatch.zip}"

if ! command -v python3 >/dev/null 2>&1; then
	echo "check-package: python3 is needed to read $zip_path" >&2
	exit 1
fi

python3 - "$zip_path" <<'PY'
import json, re, stat, struct, sys, zipfile

path = sys.argv[1]
problems = []

def fail(msg):
    problems.append(msg)

try:
    z = zipfile.ZipFile(path)
except FileNotFoundError:
    sys.exit(f"check-package: {path}: no such file")
except zipfile.BadZipFile as e:
    sys.exit(f"check-package: {path}: not a zip archive ({e})")

want = ["function/function.json", "host.json", "huntwatch"]
files = sorted(i.filename for i in z.infolist() if not i.is_dir())

# hunts/<folders>/<name>.yaml|yml: every part non-empty and not starting with "." (no "..", no
# hidden file the loader would skip), the extension in any case, as hunt.LoadPack reads a folder.
HUNT = re.compile(r"hunts(/[^/.][^/]*)*/[^/.][^/]*\.ya?ml", re.IGNORECASE)
def is_hunt(name):
    return HUNT.fullmatch(name) is not None and "\\" not in name

hunts = [n for n in files if is_hunt(n)]
missing = [n for n in want if n not in files]
extra = [n for n in files if n not in want and not is_hunt(n)]
if missing:
    hint = ""
    if any(f.endswith("/" + m) for m in missing for f in files):
        hint = " (the files sit in a folder: zip the folder's contents, not the folder)"
    fail("missing " + ", ".join(missing) + hint)
if extra:
    fail("unexpected entries " + ", ".join(extra) + " (the package holds only host.json, function/function.json, huntwatch"
         " and, optionally, hunt files hunts/**/*.yaml or *.yml whose names do not start with '.')")

for name in hunts:
    info = z.getinfo(name)
    mode = info.external_attr >> 16
    if info.create_system != 3 or mode == 0:
        fail(f"{name} has no unix mode in the archive (zipped on Windows?); it must be stored with mode 0644")
    elif stat.S_IFMT(mode) not in (0, stat.S_IFREG):
        fail(f"{name} is not a regular file in the archive (type {oct(stat.S_IFMT(mode))})")
    elif stat.S_IMODE(mode) & 0o444 != 0o444:
        fail(f"{name} has mode {stat.S_IMODE(mode):04o} in the archive, want 0644 (readable by the handler from a read-only mount)")

for info in z.infolist():
    mode = info.external_attr >> 16
    if info.is_dir() and info.create_system == 3 and mode != 0 and stat.S_IMODE(mode) & 0o555 != 0o555:
        fail(f"folder {info.filename} has mode {stat.S_IMODE(mode):04o} in the archive, want 0755 (readable by the handler from a read-only mount)")

if "huntwatch" in files:
    info = z.getinfo("huntwatch")
    mode = info.external_attr >> 16
    if info.create_system != 3 or mode == 0:
        fail("huntwatch has no unix mode in the archive (zipped on Windows?); it must be stored with mode 0755")
    else:
        if stat.S_IFMT(mode) not in (0, stat.S_IFREG):
            fail(f"huntwatch is not a regular file in the archive (type {oct(stat.S_IFMT(mode))})")
        if stat.S_IMODE(mode) != 0o755:
            fail(f"huntwatch has mode {stat.S_IMODE(mode):04o} in the archive, want 0755 (the host execs it from a read-only mount)")
    head = z.open("huntwatch").read(20)
    if head[:4] != b"\x7fELF":
        fail("huntwatch is not an ELF executable (build it with GOOS=linux GOARCH=amd64)")
    elif head[4] != 2 or head[5] != 1 or struct.unpack("<H", head[18:20])[0] != 0x3E:
        fail("huntwatch is not a 64-bit little-endian x86-64 ELF (build it with GOOS=linux GOARCH=amd64)")

def load_json(name):
    try:
        return json.loads(z.read(name))
    except (ValueError, UnicodeDecodeError) as e:
        fail(f"{name} is not valid JSON: {e}")
        return None

if "host.json" in files:
    host = load_json("host.json")
    if isinstance(host, dict):
        desc = ((host.get("customHandler") or {}).get("description") or {})
        if desc.get("defaultExecutablePath") != "huntwatch":
            fail(f"host.json customHandler.description.defaultExecutablePath is {desc.get('defaultExecutablePath')!r}, want 'huntwatch'")
        args = desc.get("arguments") or []
        if not args or args[0] != "serve":
            fail(f"host.json customHandler.description.arguments is {args!r}, want 'serve' first")
    elif host is not None:
        fail("host.json is not a JSON object")

if "function/function.json" in files:
    fn = load_json("function/function.json")
    if isinstance(fn, dict):
        timers = [b for b in fn.get("bindings") or [] if isinstance(b, dict) and b.get("type") == "timerTrigger"]
        if not timers:
            fail("function/function.json has no timerTrigger binding")
        for b in timers:
            if b.get("runOnStartup") is True:
                fail("function/function.json sets runOnStartup: on Flex Consumption it fires on every scale-out and restart")
    elif fn is not None:
        fail("function/function.json is not a JSON object")

if problems:
    print(f"check-package: {path} is not deployable:", file=sys.stderr)
    for p in problems:
        print(f"  - {p}", file=sys.stderr)
    sys.exit(1)
own = f", {len(hunts)} hunt file(s) under hunts/" if hunts else ""
print(f"check-package: {path} ok (host.json, function/function.json, huntwatch linux/amd64 mode 0755{own})")
PY
