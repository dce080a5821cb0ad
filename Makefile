# Tiny convenience wrapper; CI runs .ci/run.
.PHONY: build test package

build:
	go build ./...

test:
	bash .ci/run

package:
	bash infra/package.sh
