# make test is the README's test command; .ci/run calls it after its installs and static checks.
.PHONY: build test package bench

build:
	go build -o huntwatch ./handler

test:
	@test -d .ci/node_modules/azurite || npm ci --prefix .ci --no-audit --no-fund --loglevel=error
	go test -count=1 ./...
	node --test .ci/

package:
	bash infra/package.sh

# make bench is the performance suite (handler/bench, README "Performance"): medians of REPS runs.
REPS ?= 5
bench:
	@test -d .ci/node_modules/azurite || npm ci --prefix .ci --no-audit --no-fund --loglevel=error
	@mkdir -p dist
	go test -count=1 -run '^$$' -bench 'AllNew|Flood|SteadyState|ColdStart|Package' -benchtime 1x -timeout 60m ./handler/bench/ -reps $(REPS) -report $(CURDIR)/dist/bench-report.md
