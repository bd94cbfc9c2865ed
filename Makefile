# The one test command the README names and CI runs.
GO ?= go
# -race needs cgo and a C compiler; without them the suite still runs, unraced.
RACE := $(shell [ "$$($(GO) env CGO_ENABLED)" = 1 ] && command -v "$$($(GO) env CC)" >/dev/null 2>&1 && echo -race)

.PHONY: test vet build run cross deb bench
test: vet
	$(GO) test $(RACE) -count=1 -timeout 20m ./...
	@if python3 -c 'import jinja2' 2>/dev/null; then \
	  echo "Home Assistant templates rendered with Jinja2 (mqtt: TestHomeAssistantTemplatesRender)"; \
	else \
	  echo "NOTE: the Home Assistant template render check was NOT run: no python3 with jinja2"; \
	  echo "      (apt-get install python3-jinja2; CI runs it in scripts/ci-ha.sh). The golden payloads were checked."; \
	fi

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# The release build's compiler flags (scripts/goflags.sh) and version stamp
# (scripts/version.sh); cross builds strip as well.
build:
	$(GO) build -trimpath $$(scripts/goflags.sh) -ldflags "-X main.version=$$(scripts/version.sh)" -o bin/edgecron ./cmd/agent

run: build
	./bin/edgecron run --config configs/demo.yaml

cross:
	scripts/cross-build.sh

# The Debian packages (armhf holds the armv6 binary) and their binaries.
deb:
	scripts/cross-build.sh armv6 arm64 amd64

# Every figure of docs/performance.md and docs/footprint.md beside its peer,
# in interleaved rounds, with medians, spread and conditions (under 10
# minutes on 2 cores). SECTIONS selects some: make bench SECTIONS="crowded idle".
bench:
	GO=$(GO) scripts/bench.sh $(SECTIONS)
