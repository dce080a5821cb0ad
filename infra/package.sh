#!/usr/bin/env bash
# Builds the Functions deployment package (default dist/huntwatch.zip; an argument names another path):
#
#   bash infra/package.sh [OUT.zip]
#   HUNTS_DIR=/path/to/my-hunts bash infra/package.sh [OUT.zip]
#
#   host.json               customHandler.description.defaultExecutablePath = "huntwatch"
#   function/function.json  the timer trigger
#   huntwatch               static linux/amd64 binary, mode 0755 (the host execs it)
#   hunts/...               only with HUNTS_DIR: the users' own hunts, mode 0644
#
# HUNTS_DIR (optional; empty or unset: no hunts/ folder) names a folder of Sentinel YAML files. Every
# *.yaml and *.yml file below it, recursively, goes into the zip under hunts/ with its path relative
# to HUNTS_DIR kept; names starting with "." (files and folders) and other files are left out: the
# same selection hunt.LoadPack makes when HUNTS names a folder. The folder is checked first with the
# project's validator (`go run ./handler validate HUNTS_DIR`); if a hunt FAILs, no package is
# written. In Azure, HUNTS=hunts (relative to the app root, the handler's working directory) loads
# them; add bundled names to keep those: docs/deploy.md, "Your own hunts".
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

# No stale package survives a failed build.
rm -f "$zip_path"

# HUNTS_DIR, like the output path, is read from the caller's folder.
hunts_dir="${HUNTS_DIR:-}"
if [[ -n "$hunts_dir" ]]; then
	if [[ ! -d "$hunts_dir" ]]; then
		echo "package: HUNTS_DIR=$hunts_dir is not a folder (it names a folder of hunt YAML files); no package written" >&2
		exit 1
	fi
	hunts_dir="$(cd "$hunts_dir" && pwd)"
fi
cd "$root"

# The users' hunts are validated before anything is built: a package never holds a hunt that FAILs.
if [[ -n "$hunts_dir" ]]; then
	echo "package: validating the hunts in $hunts_dir (go run ./handler validate)"
	if ! go run ./handler validate "$hunts_dir"; then
		echo "package: a hunt in $hunts_dir does not validate (FAIL above); no package written" >&2
		exit 1
	fi
fi

staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT

echo "package: building linux/amd64 binary"
CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -ldflags "-s -w" -o "$staging/huntwatch" ./handler
chmod 0755 "$staging/huntwatch"

cp host.json "$staging/host.json"
mkdir -p "$staging/function"
cp function/function.json "$staging/function/function.json"
chmod 0644 "$staging/host.json" "$staging/function/function.json"
chmod 0755 "$staging/function"
entries=(host.json function huntwatch)

if [[ -n "$hunts_dir" ]]; then
	# The selection hunt.LoadPack makes in a folder: *.yaml and *.yml (any case) below it, no name
	# starting with "."; symbolic links to files are copied as files.
	count=0
	while IFS= read -r -d '' file; do
		rel="${file#"$hunts_dir"/}"
		mkdir -p "$staging/hunts/$(dirname "$rel")"
		cp "$file" "$staging/hunts/$rel"
		count=$((count + 1))
	done < <(find "$hunts_dir" -mindepth 1 -name '.*' -prune -o \( -type f -o -type l \) \( -iname '*.yaml' -o -iname '*.yml' \) -print0)
	find "$staging/hunts" -type d -exec chmod 0755 {} +
	find "$staging/hunts" -type f -exec chmod 0644 {} +
	entries+=(hunts)
	echo "package: $count hunt file(s) from $hunts_dir under hunts/ (set HUNTS=hunts in the app settings, docs/deploy.md)"
fi

if command -v zip >/dev/null 2>&1; then
	# -X: no extra attributes (uid/gid, times); unix modes are kept in the central directory.
	(cd "$staging" && zip -q -X -r "$zip_path" "${entries[@]}")
elif command -v python3 >/dev/null 2>&1; then
	python3 - "$staging" "$zip_path" <<'PY'
import os, stat, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
files = ["host.json", "function/function.json", "huntwatch"]
for folder, dirs, names in os.walk(os.path.join(src, "hunts")):
    dirs.sort()
    files += sorted(os.path.relpath(os.path.join(folder, n), src).replace(os.sep, "/") for n in names)
with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
    for rel in files:
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
