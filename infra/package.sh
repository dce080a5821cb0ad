#!/usr/bin/env bash
# Builds the Functions deployment package (default dist/huntwatch.zip; an argument names another path):
#
#   bash infra/package.sh [OUT.zip]
#
#   host.json               customHandler.description.defaultExecutablePath = "huntwatch"
#   function/function.json  the timer trigger
#   huntwatch               static linux/amd64 binary, mode 0755 (the host execs it)
#
# The exec bit has to survive zipping (Flex Consumption mounts the package read-only), so the archive
# is written by Info-ZIP `zip` (which stores unix modes) or, where zip is missing, by python3's zipfile
# with external_attr set. infra/check-package.sh then reads the finished zip back (layout, ELF
# linux/amd64, mode 0755, host.json, the timer); if it finds a problem, the zip is deleted.
#
# Used by `make package`, by azd (prepackage hook in azure.yaml), by infra/deploy.sh (`make deploy`)
# and by the infra test (infra/infra_test.go).
set -euo pipefail
# The shipped binary is built with the toolchain go.mod names (its standard library carries the
# security fixes govulncheck checks for), fetched from the module proxy if this machine is older.
export GOTOOLCHAIN=auto

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

zip_path="${1:-$root/dist/huntwatch.zip}"
case "$zip_path" in
*.zip) ;;
*) echo "package: the output must end in .zip, got $zip_path" >&2; exit 1 ;;
esac
mkdir -p "$(dirname "$zip_path")"
zip_path="$(cd "$(dirname "$zip_path")" && pwd)/$(basename "$zip_path")" # absolute, from the caller's folder
cd "$root"

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

# Check what the host will see. A package that fails the check does not stay behind.
if ! bash "$root/infra/check-package.sh" "$zip_path"; then
	rm -f "$zip_path"
	exit 1
fi

bytes="$(wc -c <"$zip_path" | tr -d '[:space:]')"
mb="$(awk -v b="$bytes" 'BEGIN { printf "%.2f", b / 1048576 }')"
echo "package: wrote ${zip_path#"$root"/} (${bytes} bytes, ${mb} MB)"
