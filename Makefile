# make test is the README's test command; .ci/run calls it after its installs and static checks.
.PHONY: build test package

build:
	go build -o huntwatch ./handler

test:
	@test -d .ci/node_modules/azurite || npm ci --prefix .ci --no-audit --no-fund --loglevel=error
	go test -count=1 ./...
	node --test .ci/

package:
	bash infra/package.sh
