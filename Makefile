# make test is the README's test command; .ci/run calls it after its installs and static checks.
.PHONY: build test package deploy bench

build:
	go build -o huntwatch ./handler

test:
	@test -d .ci/node_modules/azurite || npm ci --prefix .ci --no-audit --no-fund --loglevel=error
	go test -count=1 ./...
	node --test .ci/

package:
	bash infra/package.sh

# make deploy RG=<resource group> [APP=<function app>]: build, check and upload the package with the
# Azure CLI (docs/deploy.md, "Deploy the code without azd"); RG and APP default to azd's
# AZURE_RESOURCE_GROUP and AZURE_FUNCTION_APP_NAME in the environment.
deploy:
	bash infra/deploy.sh $(if $(RG),-g '$(RG)') $(if $(APP),-n '$(APP)')

# make bench is the performance suite (handler/bench, README "Performance"): medians of REPS runs,
# BIG_REPS at 100,000 rows and more (docs/performance.md gives its run time).
REPS ?= 5
BIG_REPS ?= 1
bench:
	@test -d .ci/node_modules/azurite || npm ci --prefix .ci --no-audit --no-fund --loglevel=error
	@mkdir -p dist
	go test -count=1 -run '^$$' -bench 'AllNew|Flood|SteadyState|ColdStart|Package|History' -benchtime 1x -timeout 90m ./handler/bench/ -reps $(REPS) -big-reps $(BIG_REPS) -report $(CURDIR)/dist/bench-report.md
