#!/usr/bin/env bash
# Installs the third-party Kafka clients the integration tests drive (kcat and confluent-kafka,
# both on librdkafka, from Debian's packages) and the npm packages. Needs root for apt-get.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! command -v kcat >/dev/null 2>&1 || ! /usr/bin/python3 -c 'import confluent_kafka' >/dev/null 2>&1 || [ ! -e /usr/include/librdkafka/rdkafka.h ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq kcat python3-confluent-kafka librdkafka-dev >/dev/null
fi
npm ci --no-audit --no-fund
