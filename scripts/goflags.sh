#!/usr/bin/env bash
# goflags.sh: the go build flags every release build of the agent uses, one
# per line (scripts/cross-build.sh, scripts/footprint.sh, scripts/ci-hil.sh,
# make build):
#
#   go build -trimpath $(scripts/goflags.sh) -ldflags "-s -w" ./cmd/agent
#
# The first is a build tag, nethttpomithttp2: net/http's own switch that
# leaves out the HTTP/2 it bundles. The agent never speaks HTTP/2: paho's
# websocket client dials HTTP/1.1, and an HTTP server in the agent serves
# HTTP/1.1, which every browser and HTTP client speaks. Without the tag an
# http.Server links the HTTP/2 server (0.33 MiB on armv6) for TLS clients
# that offer h2 (docs/footprint.md, "Binary size"). With it, such a server
# must set Protocols to HTTP/1 alone: by default net/http still offers h2
# in the TLS handshake and then drops the connection of a client (any
# browser) that takes it.
#
# The others turn inlining off (-l) in the packages listed below and
# nowhere else: code that runs at start-up, on a config reload, for a CLI
# command, during a TLS handshake, or to format an error or a message.
# Inlining copies a function body into every caller and records each copy
# for stack traces; in this code that buys nothing while the agent runs
# and costs the armv6 binary 0.39 MiB (docs/footprint.md, "Binary size").
# The hot paths keep full inlining: the scheduler loop and triggers
# (sched), sensor reads and actuator writes (sensors, actuators, periph
# drivers and host), the store (store, bbolt), MQTT publishing (mqtt,
# paho, the ciphers under crypto/tls, encoding/json), logging and the Go
# runtime are not listed, nor is anything they call per run, per reading
# or per message, but for fmt and crypto/tls (below).
#
# A package that matches nothing in a build is ignored, so the flags also
# suit a build of another main package.
set -euo pipefail

cold=(
	# Ours: wiring, config, the CLI, the control socket, crontab import,
	# the board opened once, the clock and watchdog checks.
	github.com/edgecron/edgecron/cmd/agent
	github.com/edgecron/edgecron/board
	github.com/edgecron/edgecron/control
	github.com/edgecron/edgecron/crontab
	github.com/edgecron/edgecron/internal/cfgkey
	github.com/edgecron/edgecron/internal/clockstate
	github.com/edgecron/edgecron/internal/registry
	github.com/edgecron/edgecron/internal/sdnotify
	github.com/edgecron/edgecron/internal/units
	# Exec actions: a run's cost is starting and reaping a process, 4.6 ms
	# of the agent's CPU with or without inlining here (BenchmarkRun).
	github.com/edgecron/edgecron/command
	# The dashboard's files and chart histories: a few requests a minute
	# while a browser shows the page (the readings' side, sensors/history,
	# keeps inlining).
	github.com/edgecron/edgecron/httpapi/ui
	# The HTTP server (http.enabled): the REST handlers, net/http and what
	# it reads requests and writes responses with. A request is a person,
	# a page or a scraper asking, a few a minute; never a job's run, a
	# reading or an MQTT message. (hpack, idna and x/text: linked, used by
	# neither side.)
	github.com/edgecron/edgecron/httpapi
	net/http
	net/http/internal
	net/http/internal/httpcommon
	net/http/httptrace
	net/textproto
	mime/multipart
	mime/quotedprintable
	vendor/golang.org/x/net/http/httpguts
	vendor/golang.org/x/net/http/httpproxy
	vendor/golang.org/x/net/http2/hpack
	vendor/golang.org/x/net/idna
	vendor/golang.org/x/text/transform
	vendor/golang.org/x/text/unicode/bidi
	vendor/golang.org/x/text/secure/bidirule
	vendor/golang.org/x/text/unicode/norm
	# Config and command line: YAML, flags, the job table, and compiling
	# regular expressions (matching, package regexp, keeps inlining).
	gopkg.in/yaml.v3
	flag
	text/tabwriter
	regexp/syntax
	# periph's registries: pins and buses are looked up by name at start-up.
	periph.io/x/conn/v3/driver/driverreg
	periph.io/x/conn/v3/gpio/gpioreg
	periph.io/x/conn/v3/i2c/i2creg
	periph.io/x/conn/v3/onewire/onewirereg
	periph.io/x/conn/v3/spi/spireg
	# The TLS handshake: certificates, their ASN.1, handshake messages and
	# the signature and key exchange glue (the arithmetic underneath, in
	# crypto/internal/fips140/{nistec/fiat,bigmod,mlkem,edwards25519}, and
	# the record layer's ciphers keep inlining; nistec: below). math/big: certificates, and
	# the scheduler's intervals past 292 years. crypto/tls itself, whose
	# record layer frames every message to a TLS broker: without inlining
	# a 200-byte record takes 60 to 160 ns more CPU to seal and open on
	# amd64 (of 560 to 1,000), 16 us a second at most at 100 messages a
	# second, and the echo over TLS does not move (BenchmarkTLSRecord,
	# BenchmarkMQTT/echo-tls; docs/footprint.md).
	crypto/tls
	crypto/x509
	crypto/x509/pkix
	encoding/asn1
	vendor/golang.org/x/crypto/cryptobyte
	crypto/ecdsa
	crypto/elliptic
	crypto/rsa
	crypto/internal/fips140/ecdsa
	crypto/internal/fips140/rsa
	math/big
	# The rest of the handshake's glue: key exchange (ECDH, ML-KEM), the
	# key schedules of TLS 1.2 and 1.3 and their hashes, Ed25519, the
	# entropy source and its DRBG (seeded once, read for handshakes and
	# keys), and ciphers and hashes only legacy suites or certificates use.
	# The record layer's AES-GCM, ChaCha20-Poly1305, SHA-256 and HMAC, and
	# crypto/internal/fips140 (its checks sit in every AEAD seal), keep
	# inlining.
	crypto/ecdh
	crypto/internal/fips140/ecdh
	crypto/mlkem
	crypto/hpke
	crypto/internal/fips140/hkdf
	crypto/hkdf
	crypto/internal/fips140/tls12
	crypto/internal/fips140/tls13
	crypto/tls/internal/fips140tls
	crypto/internal/fips140/sha3
	crypto/sha3
	crypto/internal/fips140/sha512
	crypto/sha512
	crypto/internal/fips140/ed25519
	crypto/ed25519
	crypto/internal/fips140/drbg
	crypto/internal/fips140/check
	crypto/internal/entropy/v1.0.0
	crypto/internal/fips140cache
	crypto/internal/fips140hash
	crypto/internal/boring/bbig
	crypto/dsa
	crypto/des
	crypto/rc4
	crypto/md5
	crypto/sha1
	# The point arithmetic of the NIST curves (ECDHE with P-256 and the
	# like, ECDSA signatures): a P-256 handshake (ECDHE and ECDSA) takes
	# 5 to 15 % more CPU without its inlining (armv6 under qemu,
	# crypto/tls's BenchmarkHandshakeServer; docs/footprint.md). The field
	# arithmetic underneath (nistec/fiat), where it was 60 %, keeps it.
	crypto/internal/fips140/nistec
	# Connecting: the broker URL; a SOCKS proxy (only with ALL_PROXY set);
	# websockets and MIME, linked by paho for ws:// brokers, which the
	# agent's config does not accept.
	net/url
	golang.org/x/net/proxy
	golang.org/x/net/internal/socks
	github.com/gorilla/websocket
	mime
	# Decompressing a zone of the embedded zone database (once per zone, on
	# a host without zone files) and a dashboard file for a client that
	# takes no gzip; signals, certificates' PEM, package log (the agent
	# logs through log/slog's own handlers; periph and bbolt keep log for
	# errors), and the Go runtime's metrics, read at a scrape.
	compress/flate
	compress/gzip
	hash/crc32
	os/signal
	encoding/pem
	log
	runtime/metrics
	# Formatting, which the agent does for errors, CLI output and log lines.
	# The hot paths call it in two places: paho formats a store key per QoS 1
	# message, and a reading logged without a broker formats its values;
	# BenchmarkMQTT and a LogSink benchmark show no difference. (log/slog
	# stays inlined: without a broker every reading is a log line, and
	# slog without inlining made that 8 % slower.)
	fmt
)

echo "-tags=nethttpomithttp2"
for p in "${cold[@]}"; do
	echo "-gcflags=$p=-l"
done
