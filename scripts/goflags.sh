#!/usr/bin/env bash
# goflags.sh: the go build flags every release build of the agent uses, one
# per line (scripts/cross-build.sh, scripts/footprint.sh, scripts/ci-hil.sh,
# make build):
#
#   go build -trimpath $(scripts/goflags.sh) -ldflags "-s -w" ./cmd/agent
#
# The first is a build tag, nethttpomithttp2: net/http's own switch that
# leaves out the HTTP/2 it bundles. The agent never speaks HTTP/2: paho's
# websocket client dials HTTP/1.1, and the agent's HTTP listener serves
# HTTP/1.1, which every browser and HTTP client speaks (it sets Protocols
# to HTTP/1 alone). Without the tag an http.Server links the HTTP/2 server
# (docs/footprint.md, "Binary size").
#
# The others turn inlining off (-l) everywhere but where the running agent
# spends its CPU: the Go runtime and its internal packages and sync (every
# allocation, lock, timer and wake-up: idle CPU lives here), time, the
# scheduler's core (sched: the firing loop, the heap, the triggers), the
# store (store and bbolt: every commit) and the record layer's ciphers
# under crypto/tls (AES-GCM, ChaCha20-Poly1305, SHA-256, HMAC; free in
# bytes). Inlining copies
# a function body into every caller and records each copy for stack
# traces; everywhere else it buys no time a user could measure and costs
# the armv6 binary 0.81 MiB (0.25 MiB more than a list of cold packages
# left inlined), which its 8.5 MiB budget cannot hold beside
# the HTTP listener, the REST API, the dashboard and /metrics.
#
# What that costs (one-off measurements, not rerun by scripts/bench.sh;
# docs/footprint.md): an MQTT request through the agent and a reading
# driving an actuator showed no difference beyond the noise of a loaded
# machine (BenchmarkMQTT/request and BenchmarkReadingToActuator, test
# binaries built with these flags and with the old list, 4 interleaved
# rounds, 2026-12-04); per message, crypto/tls's record layer takes 60 to
# 160 ns more (BenchmarkTLSRecord); an earlier session put a reading
# logged without a broker 8 % slower with log/slog not inlined. Keeping
# encoding/json or log/slog inlined would cost 32 KB each.
#
# A package that matches nothing in a build is ignored, so the flags also
# suit a build of another main package.
set -euo pipefail

hot=(
	# The Go runtime, its internal packages and sync.
	'runtime/...'
	'internal/...'
	'sync/...'
	time
	# The scheduler's core and the store.
	github.com/edgecron/edgecron/sched
	'github.com/edgecron/edgecron/store/...'
	'go.etcd.io/bbolt/...'
	# The record layer's ciphers and the checks in every AEAD seal.
	'crypto/internal/fips140/aes/...'
	crypto/internal/fips140/sha256
	crypto/internal/fips140/hmac
	crypto/internal/fips140/subtle
	crypto/internal/fips140
	# ChaCha20-Poly1305: the record layer's cipher on a Pi without AES
	# instructions (every Pi before the 5), in Go alone on arm. Without
	# inlining a 200-byte record took 60 to 70 us of CPU against 37 to
	# 49 (armv6 under qemu, BenchmarkTLSRecord); inlined it is 2 KB
	# smaller.
	vendor/golang.org/x/crypto/chacha20
	vendor/golang.org/x/crypto/internal/poly1305
	vendor/golang.org/x/crypto/chacha20poly1305
	# math/bits: 64-bit multiply and add-with-carry, which on 32-bit arm
	# are Go functions, not instructions, called in the inner loops of the
	# ciphers and of the handshake's arithmetic. Inlined they cost no
	# bytes (10 fewer) and an RSA-signed handshake took 111 ms of CPU
	# instead of 153 (armv6 under qemu, crypto/tls's
	# BenchmarkHandshakeServer/ECDHE-P256-RSA).
	math/bits
)

echo "-tags=nethttpomithttp2"
echo "-gcflags=all=-l"
for p in "${hot[@]}"; do
	echo "-gcflags=$p="
done
