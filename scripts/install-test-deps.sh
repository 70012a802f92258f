#!/usr/bin/env bash
# Installs the third-party Kafka clients the integration tests drive (kcat and confluent-kafka,
# both on librdkafka; kafka-python with its snappy/lz4/zstd modules; kafka-go 0.2 with Go, an old
# client of message format v1), from Debian's packages, and
# the npm packages. Needs root for apt-get.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
# `time` (GNU time, /usr/bin/time) is only for `npm run bench`: broker CPU seconds and peak RSS.
if ! command -v kcat >/dev/null 2>&1 || ! /usr/bin/python3 -c 'import confluent_kafka' >/dev/null 2>&1 || ! /usr/bin/python3 -c 'import kafka, snappy, lz4.frame, zstandard' >/dev/null 2>&1 || [ ! -e /usr/include/librdkafka/rdkafka.h ] || [ ! -x /usr/bin/time ] || ! command -v go >/dev/null 2>&1 || [ ! -d /usr/share/gocode/src/github.com/segmentio/kafka-go ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq kcat python3-confluent-kafka python3-kafka python3-snappy python3-lz4 python3-zstandard librdkafka-dev time golang-go golang-github-segmentio-kafka-go-dev >/dev/null
fi
# librdkafka 2.15.1 (the KIP-848 client of test/integration/kip848-librdkafka.test.ts, and the
# library and test runner of scripts/librdkafka-suite.sh), built once into ~/.cache/tributary from
# the npm tarball that bundles it; its build needs these headers.
if ! dpkg -s libssl-dev libsasl2-dev libzstd-dev liblz4-dev libcurl4-openssl-dev rapidjson-dev >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq build-essential pkg-config libssl-dev libsasl2-dev libzstd-dev liblz4-dev libcurl4-openssl-dev rapidjson-dev >/dev/null
fi
npm ci --no-audit --no-fund
bash "$(dirname "$0")/build-librdkafka.sh" >/dev/null
