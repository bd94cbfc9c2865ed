# The one test command the README names and CI runs.
GO ?= go
# -race needs cgo and a C compiler; without them the suite still runs, unraced.
RACE := $(shell [ "$$($(GO) env CGO_ENABLED)" = 1 ] && command -v "$$($(GO) env CC)" >/dev/null 2>&1 && echo -race)

.PHONY: test vet build run cross bench
test: vet
	$(GO) test $(RACE) -count=1 -timeout 20m ./...

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# The release build's compiler flags (scripts/goflags.sh); cross builds
# strip and stamp the version as well.
build:
	$(GO) build -trimpath $$(scripts/goflags.sh) -o bin/edgecron ./cmd/agent

run: build
	./bin/edgecron run --config configs/demo.yaml

cross:
	scripts/cross-build.sh

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
