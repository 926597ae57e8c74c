#!/usr/bin/env bash
# Runs the whole test suite with the race detector. Extra arguments go to
# `go test`, e.g. ./test.sh -run TestLoadConfig -v
set -euo pipefail
cd "$(dirname "$0")"
exec go test -race -count=1 -timeout 15m "$@" ./...
