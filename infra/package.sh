#!/usr/bin/env bash
# Builds the Functions deployment package dist/huntwatch.zip:
#
#   host.json               customHandler.description.defaultExecutablePath = "huntwatch"
#   function/function.json  the timer trigger
#   huntwatch               static linux/amd64 binary, mode 0755 (the host execs it)
#
# The exec bit has to survive zipping, so the archive is written by Info-ZIP `zip` (which stores unix
# modes) or, where zip is missing, by python3's zipfile with external_attr set. The script checks the
# mode inside the finished zip and fails if it is not 0755.
#
# Used by `make package`, by azd (prepackage hook in azure.yaml) and before `az functionapp
# deployment source config-zip` (docs/deploy.md).
set -euo pipefail
# The shipped binary is built with the toolchain go.mod names (its standard library carries the
# security fixes govulncheck checks for), fetched from the module proxy if this machine is older.
export GOTOOLCHAIN=auto

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

out_dir="$root/dist"
zip_path="$out_dir/huntwatch.zip"

if ! grep -Eq '"defaultExecutablePath"[[:space:]]*:[[:space:]]*"huntwatch"' host.json; then
	echo "package: host.json customHandler.description.defaultExecutablePath must be \"huntwatch\"" >&2
	exit 1
fi

# No stale package survives a failed build.
rm -f "$zip_path"

staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT

echo "package: building linux/amd64 binary"
CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -ldflags "-s -w" -o "$staging/huntwatch" ./handler
chmod 0755 "$staging/huntwatch"

cp host.json "$staging/host.json"
mkdir -p "$staging/function"
cp function/function.json "$staging/function/function.json"
chmod 0644 "$staging/host.json" "$staging/function/function.json"

mkdir -p "$out_dir"

if command -v zip >/dev/null 2>&1; then
	# -X: no extra attributes (uid/gid, times); unix modes are kept in the central directory.
	(cd "$staging" && zip -q -X -r "$zip_path" host.json function huntwatch)
elif command -v python3 >/dev/null 2>&1; then
	python3 - "$staging" "$zip_path" <<'PY'
import os, stat, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
    for rel in ("host.json", "function/function.json", "huntwatch"):
        path = os.path.join(src, rel)
        info = zipfile.ZipInfo.from_file(path, rel)
        info.external_attr = (stat.S_IFREG | stat.S_IMODE(os.stat(path).st_mode)) << 16
        info.create_system = 3  # unix, so readers honour external_attr
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(path, "rb") as f:
            z.writestr(info, f.read())
PY
else
	echo "package: need zip or python3 to write the archive" >&2
	exit 1
fi

# Check what the host will see: the binary's mode inside the archive.
mode=""
if command -v python3 >/dev/null 2>&1; then
	mode="$(python3 -c 'import sys, zipfile; print(oct((zipfile.ZipFile(sys.argv[1]).getinfo("huntwatch").external_attr >> 16) & 0o777)[2:])' "$zip_path")"
elif command -v unzip >/dev/null 2>&1; then
	# unzip -Z prints e.g. "-rwxr-xr-x  3.0 unx 12345 bx defN ... huntwatch"
	perms="$(unzip -Z "$zip_path" huntwatch | awk '{print $1}')"
	[[ "$perms" == "-rwxr-xr-x" ]] && mode=755
else
	echo "package: warning: neither python3 nor unzip found; exec bit not verified" >&2
	mode=755
fi
if [[ "$mode" != "755" ]]; then
	echo "package: huntwatch has mode ${mode:-unknown} inside $zip_path, want 755" >&2
	exit 1
fi

bytes="$(wc -c <"$zip_path" | tr -d '[:space:]')"
mb="$(awk -v b="$bytes" 'BEGIN { printf "%.2f", b / 1048576 }')"
echo "package: wrote ${zip_path#"$root"/} (${bytes} bytes, ${mb} MB; huntwatch mode 0755)"
