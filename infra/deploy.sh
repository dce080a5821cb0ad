#!/usr/bin/env bash
# Deploys the huntwatch package to an existing Flex Consumption function app with the Azure CLI: the
# fallback beside `azd deploy` (docs/deploy.md, "Deploy the code without azd").
#
#   bash infra/deploy.sh -g RESOURCE_GROUP [-n FUNCTION_APP] [--zip FILE]
#   make deploy RG=RESOURCE_GROUP [APP=FUNCTION_APP]
#
# RESOURCE_GROUP and FUNCTION_APP default to the environment variables AZURE_RESOURCE_GROUP and
# AZURE_FUNCTION_APP_NAME (the names azd keeps; export them with
# `set -a; eval "$(azd env get-values)"; set +a`). Without an app name, the script reads the output
# AZURE_FUNCTION_APP_NAME of the deployment named huntwatch in the resource group (the
# `az deployment group create -n huntwatch` of docs/deploy.md).
#
# Steps, each stopping the script when it fails:
#   1. build dist/huntwatch.zip with infra/package.sh, unless --zip names a package;
#   2. check the package (infra/check-package.sh: layout, linux/amd64 ELF, mode 0755, host.json,
#      the timer) before anything is uploaded;
#   3. check that the app's plan is Flex Consumption (this script is for that plan only);
#   4. upload with `az functionapp deployment source config-zip` (one deploy on Flex Consumption);
#   5. list the app's functions: "function" should be there once the host has started.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
	echo "usage: bash infra/deploy.sh -g RESOURCE_GROUP [-n FUNCTION_APP] [--zip FILE]" >&2
	exit 2
}

rg="${AZURE_RESOURCE_GROUP:-}"
app="${AZURE_FUNCTION_APP_NAME:-}"
zip=""
while [[ $# -gt 0 ]]; do
	case "$1" in
	-g | --resource-group) [[ $# -ge 2 ]] || usage; rg="$2"; shift 2 ;;
	-n | --name) [[ $# -ge 2 ]] || usage; app="$2"; shift 2 ;;
	--zip) [[ $# -ge 2 ]] || usage; zip="$2"; shift 2 ;;
	-h | --help) usage ;;
	*) echo "deploy: unknown argument $1" >&2; usage ;;
	esac
done
[[ -n "$rg" ]] || { echo "deploy: no resource group: pass -g or set AZURE_RESOURCE_GROUP" >&2; usage; }

if ! command -v az >/dev/null 2>&1; then
	echo "deploy: the Azure CLI (az) is not installed" >&2
	exit 1
fi

# 1 and 2: the package, checked before any upload.
if [[ -z "$zip" ]]; then
	zip="$root/dist/huntwatch.zip"
	bash "$root/infra/package.sh" "$zip" # checks the zip it writes
else
	bash "$root/infra/check-package.sh" "$zip"
fi

if [[ -z "$app" ]]; then
	app="$(az deployment group show -g "$rg" -n huntwatch --query properties.outputs.AZURE_FUNCTION_APP_NAME.value -o tsv)"
	[[ -n "$app" ]] || { echo "deploy: no function app name: pass -n or set AZURE_FUNCTION_APP_NAME" >&2; exit 1; }
fi

# 3: the plan must be Flex Consumption.
plan_id="$(az functionapp show -g "$rg" -n "$app" --query serverFarmId -o tsv)"
tier="$(az resource show --ids "$plan_id" --query sku.tier -o tsv)"
if [[ "$tier" != "FlexConsumption" ]]; then
	echo "deploy: $app runs on a plan of tier '${tier:-unknown}', not FlexConsumption; this script deploys to Flex Consumption only" >&2
	exit 1
fi

# 4: one deploy of the checked zip.
echo "deploy: uploading $zip to $app ($rg)"
az functionapp deployment source config-zip -g "$rg" -n "$app" --src "$zip"

# 5: what the host indexed. Empty right after the upload is possible; the host starts on demand.
functions="$(az functionapp function list -g "$rg" -n "$app" --query "[].name" -o tsv || true)"
if grep -Eq '(^|/)function$' <<<"$functions"; then
	echo "deploy: done; the host lists the timer function. Next: docs/deploy.md, \"First deployment\" (confirm a run)."
else
	echo "deploy: uploaded, but the host does not list the function 'function' yet (got: ${functions:-nothing})." >&2
	echo "deploy: wait a minute and run: az functionapp function list -g $rg -n $app -o table; then see docs/deploy.md, \"When something is wrong\"." >&2
fi
