#!/usr/bin/env bash
# Runs librdkafka's own integration test suite against a Tributary broker.
#
# The suite ships with the library's source inside the npm tarball of
# @confluentinc/kafka-javascript (1.10.1 bundles librdkafka 2.15.1). The library and its
# tests/test-runner are built once into a cache outside the clone and reused.
#
#   scripts/librdkafka-suite.sh [options] [TEST_NUMBER ...]
#
#   --protocol classic|consumer  group protocol of the tests' consumers (default classic;
#                                consumer sets TEST_CONSUMER_GROUP_PROTOCOL=consumer, KIP-848)
#   --full                       run without quick mode (-Q); quick mode skips whole sub-tests
#   --allowlist                  run only the tests listed as passing in
#                                scripts/librdkafka-suite/allowlist-<protocol>.txt (what CI runs)
#   --sasl                       clients authenticate over SASL_PLAINTEXT/PLAIN as User:test (not a
#                                super user), so the tests' ACL parts run (0081's authorized
#                                operations); the default is PLAINTEXT, as CI runs it
#   --timeout SECONDS            per test (default 420)
#   --out DIR                    where logs and the summary go (default a new temporary dir)
#
# Prints one line per test (PASS, FAIL, NOT-RUN: passed without running any of its sub-tests,
# SKIP: listed in scripts/librdkafka-suite/skip.txt with the reason; RETRY: a test listed in
# scripts/librdkafka-suite/flaky.txt failed and runs once more, its second result printed next) and a final
# "N passed, N failed" line. Exits non-zero when a test fails (or, with --allowlist, when a test
# of the allowlist does not pass).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
suite_dir="$root/scripts/librdkafka-suite"

LIBRDKAFKA_VERSION=2.15.1

protocol=classic
quick=-Q
allowlist_only=0
sasl=0
timeout_s=420
out=""
only=()
while [ $# -gt 0 ]; do
  case "$1" in
    --protocol) protocol=$2; shift 2 ;;
    --full) quick=""; shift ;;
    --allowlist) allowlist_only=1; shift ;;
    --sasl) sasl=1; shift ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    [0-9][0-9][0-9][0-9]) only+=("$1"); shift ;;
    *) echo "librdkafka-suite: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
case "$protocol" in classic|consumer) ;; *) echo "librdkafka-suite: --protocol is classic or consumer" >&2; exit 2 ;; esac

# ---- build (cached, once: scripts/build-librdkafka.sh)
cache=$(bash "$root/scripts/build-librdkafka.sh")
tests_dir="$cache/tests"
# The runner links librdkafka dynamically: make sure it is this build, not the system's (Debian's
# librdkafka-dev is older and lacks symbols the tests use).
export LD_LIBRARY_PATH="$cache/src:$cache/src-cpp${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
linked=$(ldd "$tests_dir/test-runner" | grep -o "$cache/src/librdkafka.so.1" || true)
[ -n "$linked" ] || { echo "librdkafka-suite: test-runner does not load $cache/src/librdkafka.so.1" >&2; ldd "$tests_dir/test-runner" >&2; exit 1; }

# ---- which tests
# Every test that needs a broker (not TEST_F_LOCAL, not manual), by number, in order.
# A number whose variants are all local (mock cluster) is left out; -L skips the local variants of
# the others.
all_tests=$(perl -0ne 'while (/_TEST\((\d{4})_\w+,\s*([^,)]*)/g) { print "$1\n" unless $2 =~ /TEST_F_(LOCAL|MANUAL)/ }' \
  "$tests_dir/test.c" | sort -u)
declare -A skip_reason=()
while IFS= read -r line; do
  case "$line" in ''|'#'*) continue ;; esac
  skip_reason[${line%% *}]=${line#* }
done <"$suite_dir/skip.txt"
# Tests that fail now and then against Kafka itself (timing in the test, not the broker): one
# failure is run again, and both tries are printed (RETRY, then the second result).
declare -A flaky_reason=()
while IFS= read -r line; do
  case "$line" in ''|'#'*) continue ;; esac
  flaky_reason[${line%% *}]=${line#* }
done <"$suite_dir/flaky.txt"
if [ ${#only[@]} -gt 0 ]; then
  tests=$(printf '%s\n' "${only[@]}")
elif [ "$allowlist_only" = 1 ]; then
  # An empty allowlist runs nothing (and passes).
  tests=$(grep -oE '^[0-9]{4}' "$suite_dir/allowlist-$protocol.txt" || true)
else
  tests=$all_tests
fi

# ---- brokers
# The "default" scenario is Kafka's default configuration (auto-created topics of 4 partitions,
# and group.initial.rebalance.delay.ms at its 3 s default, as librdkafka's own trivup harness
# runs it: with 0, two members joining a moment apart can land in separate generations, and
# 0102's static members then see a revocation the test does not expect);
# the tests of the "noautocreate" scenario get a second broker with auto-creation off.
[ -f dist/src/index.js ] || npm run build >/dev/null
[ -n "$out" ] || out=$(mktemp -d -t librdkafka-suite-XXXXXX)
mkdir -p "$out"
data_root=$(mktemp -d -t librdkafka-suite-data-XXXXXX)
broker_pid=""
broker_port=""
broker_log=""
start_broker() { # scenario
  local scenario=$1 autocreate=true before=0
  [ "$scenario" = noautocreate ] && autocreate=false
  broker_log="$out/broker-$scenario.log"
  [ -f "$broker_log" ] && before=$(wc -l <"$broker_log")
  [ -n "$broker_port" ] || broker_port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  local security=PLAINTEXT sasl_overrides=()
  if [ "$sasl" = 1 ]; then
    security=SASL_PLAINTEXT
    sasl_overrides=(--override sasl.enabled.mechanisms=PLAIN
      --override "listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_test=\"test-secret\";")
  fi
  node bin/tributary.js server \
    --override "listeners=$security://127.0.0.1:$broker_port" \
    --override "advertised.listeners=$security://127.0.0.1:$broker_port" \
    "${sasl_overrides[@]}" \
    --override "log.dirs=$data_root/$scenario" \
    --override num.partitions=4 \
    --override "auto.create.topics.enable=$autocreate" \
    --override offsets.topic.replication.factor=1 \
    --override authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer \
    --override allow.everyone.if.no.acl.found=true \
    >>"$broker_log" 2>&1 &
  broker_pid=$!
  for _ in $(seq 1 100); do
    tail -n +$((before + 1)) "$broker_log" | grep -q '"msg":"started"' && return 0
    kill -0 "$broker_pid" 2>/dev/null || { echo "broker exited during start-up; see $broker_log" >&2; tail -5 "$broker_log" >&2; exit 1; }
    sleep 0.2
  done
  echo "broker did not start; see $broker_log" >&2
  exit 1
}
stop_broker() {
  if [ -n "$broker_pid" ]; then kill "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null || true; fi
  broker_pid=""
  broker_port=""
}
trap 'stop_broker; rm -rf "$data_root"' EXIT

export TEST_KAFKA_VERSION=4.2.0
# Tests that run Kafka's scripts ($KAFKA_PATH/bin/kafka-*.sh) get Tributary's tools, which take
# the same flags; a tool Tributary lacks fails the way a missing script would.
mkdir -p "$out/kafka/bin"
client_auth=""
sasl_conf=""
if [ "$sasl" = 1 ]; then
  sasl_conf=$'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.username=test\nsasl.password=test-secret\n'
  printf '%s\n%s\n' 'security.protocol=SASL_PLAINTEXT' 'sasl.mechanism=PLAIN' >"$out/client.properties"
  printf '%s\n' 'sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="test" password="test-secret";' >>"$out/client.properties"
  client_auth=" --command-config $out/client.properties"
fi
for tool in topics configs consumer-groups acls; do
  printf '#!/bin/sh\nexec node "%s/bin/tributary.js" %s%s "$@"\n' "$root" "$tool" "$client_auth" >"$out/kafka/bin/kafka-$tool.sh"
  chmod +x "$out/kafka/bin/kafka-$tool.sh"
done
export KAFKA_PATH="$out/kafka"
[ "$protocol" = consumer ] && export TEST_CONSUMER_GROUP_PROTOCOL=consumer

passed=0; failed=0; notrun=0; skipped=0; retried=0
failed_list=(); notrun_list=(); retried_list=()
strip_colors() { sed 's/\x1b\[[0-9;]*m//g'; }

# Runs test number $2 in scenario $1 and prints its line. The runner's summary table has a row per
# variant of the number: local (mock) variants show "Filtered due to negative test flags", variants
# of another scenario are skipped silently (empty reason); both are left out.
run_test() {
  local scenario=$1 t=$2 try=${3:-1} log rc secs start rows src has_subtests started why
  log="$out/$t${scenario:+-$scenario}.log"
  [ "$scenario" = default ] && log="$out/$t.log"
  [ "$try" = 2 ] && log="${log%.log}-try2.log"
  start=$(date +%s)
  set +e
  (cd "$tests_dir" && TESTS=$t TEST_SCENARIO=$scenario timeout -k 10 "$timeout_s" ./test-runner $quick -L -s "$scenario") >"$log" 2>&1
  rc=$?
  set -e
  secs=$(( $(date +%s) - start ))
  rows=$(strip_colors <"$log" | grep -E "^\| $t" | grep -v 'Filtered due to negative test flags' | grep -vE '\| +SKIPPED \| +[0-9.]+s \| *$' || true)
  src=$(ls "$tests_dir/$t"-*.c "$tests_dir/$t"-*.cpp 2>/dev/null || true)
  # Quick mode skips the sub-tests declared with SUB_TEST() (not SUB_TEST_QUICK()); a test made
  # only of those passes without doing anything, which is not a pass.
  has_subtests=0
  [ -n "$quick" ] && [ -n "$src" ] && grep -qE 'SUB_TEST\(' $src && has_subtests=1
  started=$(strip_colors <"$log" | grep -cE '^\[[^]]*\] \[ [^]]+ \]$' || true)
  if [ $rc -eq 0 ] && [ -z "$rows" ]; then
    return 0 # no variant of this number belongs to this scenario
  elif [ $rc -ne 0 ] || grep -q 'FAILED' <<<"$rows"; then
    why=$(grep -m1 -E 'FAILED' <<<"$rows" | sed -E 's/^\| *([^ ]+) +\| +FAILED +\| +[0-9.]+s \| *//' | cut -c1-200 || true)
    [ -n "$why" ] || why=$(strip_colors <"$log" | grep -m1 -A1 -E '^### Test' | tail -1 | cut -c1-200 || true)
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then why="timed out after ${timeout_s}s; $why"; fi
    if [ "$try" = 1 ] && [ -n "${flaky_reason[$t]:-}" ]; then
      printf 'RETRY   %s  %4ss  %s (known flaky: %s; log %s)\n' "$t" "$secs" "$why" "${flaky_reason[$t]}" "$log"
      retried=$((retried + 1)); retried_list+=("$t")
      run_test "$scenario" "$t" 2
      return 0
    fi
    printf 'FAIL    %s  %4ss  %s\n' "$t" "$secs" "$why"
    failed=$((failed + 1)); failed_list+=("$t")
  elif [ -n "$rows" ] && ! grep -q 'PASSED' <<<"$rows"; then
    why=$(grep -m1 SKIPPED <<<"$rows" | sed -E 's/^\| *([^ ]+) +\| +SKIPPED +\| +[0-9.]+s \| *//')
    printf 'NOT-RUN %s  %4ss  skipped: %s\n' "$t" "$secs" "$why"
    notrun=$((notrun + 1)); notrun_list+=("$t")
  elif [ $has_subtests = 1 ] && [ "$started" -eq 0 ]; then
    printf 'NOT-RUN %s  %4ss  no sub-test ran (quick mode)\n' "$t" "$secs"
    notrun=$((notrun + 1)); notrun_list+=("$t")
  else
    printf 'PASS    %s  %4ss\n' "$t" "$secs"
    passed=$((passed + 1))
  fi
}

run_pass() { # scenario tests...
  local scenario=$1; shift
  [ $# -gt 0 ] || return 0
  start_broker "$scenario"
  printf 'bootstrap.servers=127.0.0.1:%s\n%s' "$broker_port" "$sasl_conf" >"$out/test.conf"
  export BROKERS="127.0.0.1:$broker_port"
  export RDKAFKA_TEST_CONF="$out/test.conf"
  echo "== librdkafka $LIBRDKAFKA_VERSION suite, $protocol group protocol${quick:+, quick mode}, scenario $scenario, broker 127.0.0.1:$broker_port, logs in $out"
  for t in "$@"; do
    if [ ${#only[@]} -eq 0 ] && [ -n "${skip_reason[$t]:-}" ]; then
      printf 'SKIP    %s  %s\n' "$t" "${skip_reason[$t]}"
      skipped=$((skipped + 1))
      continue
    fi
    if ! kill -0 "$broker_pid" 2>/dev/null; then
      echo "        (the broker died before $t; restarting it, see $broker_log)"
      start_broker "$scenario"
    fi
    run_test "$scenario" "$t"
  done
  stop_broker
}

# Numbers with a variant in the noautocreate scenario.
noautocreate=$(perl -0ne 'while (/_TEST\((\d{4})_\w+,[^)]*?\.scenario = "noautocreate"/g) { print "$1\n" }' "$tests_dir/test.c" | sort -u)
# shellcheck disable=SC2086
run_pass default $tests
# shellcheck disable=SC2046
run_pass noautocreate $(comm -12 <(printf '%s\n' $tests | sort) <(printf '%s\n' $noautocreate))

echo "$passed passed, $failed failed, $notrun not run, $skipped skipped ($protocol${quick:+, quick}$( [ "$sasl" = 1 ] && echo ", SASL"))"
[ $failed -gt 0 ] && echo "failed: ${failed_list[*]}"
[ $notrun -gt 0 ] && echo "not run: ${notrun_list[*]}"
[ $retried -gt 0 ] && echo "run twice (failed once, listed in flaky.txt): ${retried_list[*]}"
if [ "$allowlist_only" = 1 ] && [ $((failed + notrun)) -gt 0 ]; then exit 1; fi
[ $failed -eq 0 ]
