#!/usr/bin/env bash
# Builds librdkafka 2.15.1 and its tests/test-runner once into a cache outside the clone, from
# the npm tarball of @confluentinc/kafka-javascript@1.10.1 (which bundles that librdkafka with
# its test suite), and prints the cache directory. Does nothing when the build is there.
#
# Used by scripts/librdkafka-suite.sh (the suite) and scripts/install-test-deps.sh (the
# integration tests drive python3-confluent-kafka on this build for KIP-848). Needs the Debian
# packages libssl-dev libsasl2-dev libzstd-dev liblz4-dev libcurl4-openssl-dev rapidjson-dev.
set -euo pipefail

PKG=@confluentinc/kafka-javascript@1.10.1
LIBRDKAFKA_VERSION=2.15.1
cache=${TRIBUTARY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tributary}/librdkafka-$LIBRDKAFKA_VERSION

# Build logs are named build-*.log: librdkafka's configure loads every configure.* file of its
# directory as a mklove module, so a "configure.log" there breaks it ("Module log not found").
build_suite() {
  echo "== building librdkafka $LIBRDKAFKA_VERSION and its test runner into $cache (once)" >&2
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$PKG" >/dev/null && tar xzf ./*.tgz)
  rm -rf "$cache.partial"
  cp -r "$tmp/package/deps/librdkafka" "$cache.partial"
  rm -rf "$tmp"
  (
    cd "$cache.partial"
    # GSSAPI (Kerberos) is not tested; everything else the suite uses is found by pkg-config.
    ./configure --disable-gssapi >build-configure.log 2>&1 || { tail -20 build-configure.log >&2; exit 1; }
    make -j"$(nproc)" libs >build-make.log 2>&1 || { tail -40 build-make.log >&2; exit 1; }
    make -C tests -j"$(nproc)" build >build-tests-make.log 2>&1 || { tail -40 build-tests-make.log >&2; exit 1; }
  )
  mv "$cache.partial" "$cache"
}
if [ ! -x "$cache/tests/test-runner" ] || [ ! -e "$cache/src/librdkafka.so.1" ]; then
  mkdir -p "$(dirname "$cache")"
  # One build at a time: a second run (say the other group protocol's half, started alongside)
  # waits for the first one's build instead of deleting its half-built tree.
  exec 9>"$cache.lock"
  flock 9
  { [ -x "$cache/tests/test-runner" ] && [ -e "$cache/src/librdkafka.so.1" ]; } || build_suite
  flock -u 9
  exec 9>&-
fi
echo "$cache"
