// The client tools run as child processes (`node bin/tributary.js <tool>`) against a broker
// process, checking Kafka's output formats, exit codes and one-line errors.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBroker, tempDir, tributaryBin, type BrokerProcess } from '../helpers/broker-process.js';
import { kcat, python, run, type RunResult } from '../helpers/clients.js';
import { eventually } from './support.js';

describe('tributary client tools', () => {
  let broker: BrokerProcess;
  let bs: string;
  const dir = tempDir('tributary-cli-');
  const tool = (args: string[], input?: string): Promise<RunResult> =>
    run(process.execPath, [tributaryBin, ...args], { ...(input === undefined ? {} : { input }), timeoutMs: 30_000 });
  const ok = async (args: string[], input?: string): Promise<string> => {
    const r = await tool(args, input);
    assert.equal(r.code, 0, `${args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r.stdout;
  };
  before(async () => {
    broker = await startBroker({ overrides: { 'group.initial.rebalance.delay.ms': '0' } });
    bs = broker.bootstrap;
  });
  after(async () => {
    await broker?.destroy();
  });

  it('topics: create, list, describe in Kafka format, alter, delete, and errors as one line', async () => {
    assert.equal(await ok(['topics', '--bootstrap-server', bs, '--create', '--topic', 'cli-t', '--partitions', '3', '--replication-factor', '1', '--config', 'retention.ms=5000']), 'Created topic cli-t.\n');
    assert.match(await ok(['topics', '--bootstrap-server', bs, '--list']), /^cli-t$/m);
    const describe = await ok(['topics', '--bootstrap-server', bs, '--describe', '--topic', 'cli-t']);
    const lines = describe.trimEnd().split('\n');
    assert.match(lines[0]!, /^Topic: cli-t\tTopicId: [A-Za-z0-9_-]{22}\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: retention.ms=5000$/);
    assert.deepEqual(lines.slice(1), [0, 1, 2].map((p) => `\tTopic: cli-t\tPartition: ${p}\tLeader: 1\tReplicas: 1\tIsr: 1`));
    await ok(['topics', '--bootstrap-server', bs, '--alter', '--topic', 'cli-t', '--partitions', '4']);
    assert.match(await ok(['topics', '--bootstrap-server', bs, '--describe', '--topic', 'cli-t']), /PartitionCount: 4/);
    const dup = await tool(['topics', '--bootstrap-server', bs, '--create', '--topic', 'cli-t']);
    assert.equal(dup.code, 1);
    assert.equal(dup.stderr.trim().split('\n').length, 1, dup.stderr);
    assert.match(dup.stderr, /^Error while executing topic command : TOPIC_ALREADY_EXISTS/);
    const usage = await tool(['topics', '--bootstrap-server', bs, '--bogus']);
    assert.equal(usage.code, 2);
    assert.doesNotMatch(usage.stderr, /\n\s+at /, 'no stack trace');
    const unreachable = await tool(['topics', '--bootstrap-server', '127.0.0.1:1', '--list', '--command-config', writeProps('retries=0')]);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /^Error while executing topic command : NETWORK_EXCEPTION: cannot reach any broker/);
    await ok(['topics', '--bootstrap-server', bs, '--delete', '--topic', 'cli-t']);
    assert.doesNotMatch(await ok(['topics', '--bootstrap-server', bs, '--list']), /^cli-t$/m);
  });

  function writeProps(text: string): string {
    const p = join(dir, `client-${Math.random().toString(36).slice(2)}.properties`);
    writeFileSync(p, text);
    return p;
  }

  it('console-producer and console-consumer: keys, properties, partitions, offsets, groups', async () => {
    await ok(['topics', '--bootstrap-server', bs, '--create', '--topic', 'cli-c', '--partitions', '1']);
    await ok(['console-producer', '--bootstrap-server', bs, '--topic', 'cli-c', '--property', 'parse.key=true', '--property', 'key.separator=:'], 'k1:v1\nk2:v2\nk3:v3\n');
    const all = await tool(['console-consumer', '--bootstrap-server', bs, '--topic', 'cli-c', '--from-beginning', '--max-messages', '3', '--property', 'print.key=true', '--property', 'print.timestamp=true']);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /^CreateTime:\d+\tk1\tv1\nCreateTime:\d+\tk2\tv2\nCreateTime:\d+\tk3\tv3\n$/);
    assert.match(all.stderr, /Processed a total of 3 messages/);
    assert.equal(await ok(['console-consumer', '--bootstrap-server', bs, '--topic', 'cli-c', '--partition', '0', '--offset', '1', '--max-messages', '2']), 'v2\nv3\n');
    // kcat reads what the console producer wrote.
    const k = await kcat(['-b', bs, '-C', '-t', 'cli-c', '-o', 'beginning', '-e', '-q', '-f', '%k=%s\n']);
    assert.equal(k.stdout, 'k1=v1\nk2=v2\nk3=v3\n');
    // A group reads everything once, then nothing (offsets committed).
    assert.equal(await ok(['console-consumer', '--bootstrap-server', bs, '--topic', 'cli-c', '--group', 'cli-g', '--from-beginning', '--timeout-ms', '1500']), 'v1\nv2\nv3\n');
    assert.equal(await ok(['console-consumer', '--bootstrap-server', bs, '--topic', 'cli-c', '--group', 'cli-g', '--timeout-ms', '1000']), '');
    const groups = await ok(['consumer-groups', '--bootstrap-server', bs, '--list']);
    assert.match(groups, /^cli-g$/m);
    const described = await ok(['consumer-groups', '--bootstrap-server', bs, '--describe', '--group', 'cli-g']);
    assert.match(described, /GROUP\s+TOPIC\s+PARTITION\s+CURRENT-OFFSET\s+LOG-END-OFFSET\s+LAG\s+CONSUMER-ID\s+HOST\s+CLIENT-ID/);
    assert.match(described, /cli-g\s+cli-c\s+0\s+3\s+3\s+0\s+-\s+-\s+-/);
    const reset = await ok(['consumer-groups', '--bootstrap-server', bs, '--reset-offsets', '--group', 'cli-g', '--topic', 'cli-c', '--to-offset', '1', '--execute']);
    assert.match(reset, /cli-g\s+cli-c\s+0\s+1/);
    assert.equal(await ok(['console-consumer', '--bootstrap-server', bs, '--topic', 'cli-c', '--group', 'cli-g', '--timeout-ms', '1500']), 'v2\nv3\n');
    assert.match(await ok(['consumer-groups', '--bootstrap-server', bs, '--delete', '--group', 'cli-g']), /Deletion of requested consumer groups \('cli-g'\) was successful/);
  });

  it('console-consumer --include REGEX and --formatter; topics --describe partition filters and --topics-with-overrides', async () => {
    for (const t of ['inc-a', 'inc-b', 'xinc-c']) {
      await ok(['topics', '--bootstrap-server', bs, '--create', '--topic', t, '--partitions', '2']);
      await ok(['console-producer', '--bootstrap-server', bs, '--topic', t], `${t}-1\n${t}-2\n`);
    }
    const included = await ok(['console-consumer', '--bootstrap-server', bs, '--include', 'inc-.*', '--from-beginning', '--max-messages', '4']);
    assert.deepEqual(included.trim().split('\n').sort(), ['inc-a-1', 'inc-a-2', 'inc-b-1', 'inc-b-2']);
    const grouped = await ok(['console-consumer', '--bootstrap-server', bs, '--include', 'inc-a|xinc-c', '--group', 'cli-inc', '--from-beginning', '--timeout-ms', '1500']);
    assert.deepEqual(grouped.trim().split('\n').sort(), ['inc-a-1', 'inc-a-2', 'xinc-c-1', 'xinc-c-2']);
    const noOp = await tool(['console-consumer', '--bootstrap-server', bs, '--topic', 'inc-a', '--from-beginning', '--max-messages', '2', '--formatter', 'org.apache.kafka.tools.consumer.NoOpMessageFormatter']);
    assert.deepEqual([noOp.code, noOp.stdout], [0, '']);
    assert.match(noOp.stderr, /Processed a total of 2 messages/);
    const formatterConfig = join(dir, 'formatter.properties');
    writeFileSync(formatterConfig, 'print.partition=true\nprint.offset=true\nkey.separator=|\n');
    const formatted = await ok(['console-consumer', '--bootstrap-server', bs, '--topic', 'xinc-c', '--from-beginning', '--max-messages', '2', '--formatter', 'kafka.tools.DefaultMessageFormatter', '--formatter-config', formatterConfig]);
    assert.match(formatted, /^Partition:[01]\|Offset:0\|xinc-c-1\n/m);
    assert.equal((await tool(['console-consumer', '--bootstrap-server', bs, '--topic', 'inc-a', '--include', 'inc-.*'])).code, 2);
    assert.equal((await tool(['console-consumer', '--bootstrap-server', bs, '--topic', 'inc-a', '--formatter', 'com.example.Mine'])).code, 2);

    await ok(['configs', '--bootstrap-server', bs, '--alter', '--entity-type', 'topics', '--entity-name', 'inc-b', '--add-config', 'min.insync.replicas=2']);
    const describe = (...flags: string[]) => ok(['topics', '--bootstrap-server', bs, '--describe', '--exclude-internal', ...flags]);
    // One broker: every ISR is complete and every partition has a leader.
    assert.equal(await describe('--under-replicated-partitions'), '');
    assert.equal(await describe('--unavailable-partitions'), '');
    assert.equal(await describe('--under-min-isr-partitions'), [0, 1].map((p) => `\tTopic: inc-b\tPartition: ${p}\tLeader: 1\tReplicas: 1\tIsr: 1\n`).join(''));
    const atMin = await describe('--at-min-isr-partitions', '--topic', 'inc-a');
    assert.equal(atMin, [0, 1].map((p) => `\tTopic: inc-a\tPartition: ${p}\tLeader: 1\tReplicas: 1\tIsr: 1\n`).join(''));
    const overrides = await describe('--topics-with-overrides');
    assert.match(overrides, /^Topic: inc-b\tTopicId: \S+\tPartitionCount: 2\tReplicationFactor: 1\tConfigs: min.insync.replicas=2$/m);
    assert.doesNotMatch(overrides, /inc-a|\tPartition:/);
    assert.equal((await tool(['topics', '--bootstrap-server', bs, '--describe', '--under-replicated-partitions', '--unavailable-partitions'])).code, 2);
  });

  it("console-producer shows Kafka's '>' prompt on a terminal (and none into a pipe)", async () => {
    // A pseudo-terminal for the tool's stdin and stdout; lines typed, then ^D.
    const script = `
import json, os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b''
def read_for(t):
    global out
    end = time.time() + t
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                out += os.read(fd, 4096)
            except OSError:
                return
read_for(2)
for line in (b'one\\n', b'two\\n', b'\\x04'):
    os.write(fd, line)
    read_for(1.5)
_, status = os.waitpid(pid, 0)
print(json.dumps({'out': out.decode(errors='replace'), 'code': os.waitstatus_to_exitcode(status)}))
`;
    const r = await python<{ out: string; code: number }>(script, [process.execPath, tributaryBin, 'console-producer', '--bootstrap-server', bs, '--topic', 'cli-tty']);
    assert.equal(r.code, 0, r.out);
    assert.equal(r.out, '>one\r\n>two\r\n>');
    const piped = await tool(['console-producer', '--bootstrap-server', bs, '--topic', 'cli-tty'], 'three\n');
    assert.equal(piped.stdout, '');
    assert.equal(await ok(['console-consumer', '--bootstrap-server', bs, '--topic', 'cli-tty', '--from-beginning', '--max-messages', '3']), 'one\ntwo\nthree\n');
  });

  it('consumer-groups --describe on an empty group lists every committed partition', async () => {
    await ok(['topics', '--bootstrap-server', bs, '--create', '--topic', 'cli-e1', '--partitions', '3']);
    await ok(['topics', '--bootstrap-server', bs, '--create', '--topic', 'cli-e2', '--partitions', '2']);
    for (const [topic, partitions] of [['cli-e1', 3], ['cli-e2', 2]] as const) {
      for (let p = 0; p < partitions; p++) {
        const r = await kcat(['-P', '-b', bs, '-t', topic, '-p', String(p)], { input: Array.from({ length: p + 1 }, (_, i) => `m${i}\n`).join('') });
        assert.equal(r.code, 0, r.stderr);
      }
    }
    // A librdkafka group member reads everything, commits and leaves: the group is empty.
    const read = await kcat(['-b', bs, '-G', 'cli-empty', '-X', 'auto.offset.reset=earliest', '-e', '-q', 'cli-e1', 'cli-e2'], { timeoutMs: 60_000 });
    assert.equal(read.code, 0, read.stderr);
    assert.equal(read.stdout.trim().split('\n').length, 1 + 2 + 3 + 1 + 2);
    // And one partition is moved back by the tool itself.
    await ok(['consumer-groups', '--bootstrap-server', bs, '--reset-offsets', '--group', 'cli-empty', '--topic', 'cli-e2:1', '--to-offset', '0', '--execute']);
    const described = await ok(['consumer-groups', '--bootstrap-server', bs, '--describe', '--group', 'cli-empty']);
    assert.match(described, /^\nConsumer group 'cli-empty' has no active members\.\n/);
    const rows = described.trim().split('\n').filter((l) => l.startsWith('cli-empty')).map((l) => l.split(/\s+/).slice(0, 6).join(' '));
    assert.deepEqual(rows, [
      'cli-empty cli-e1 0 1 1 0',
      'cli-empty cli-e1 1 2 2 0',
      'cli-empty cli-e1 2 3 3 0',
      'cli-empty cli-e2 0 1 1 0',
      'cli-empty cli-e2 1 0 2 2',
    ]);
  });

  it('consumer-groups --describe --time-lag adds TIME-LAG-MS as the last column; without it the columns are Kafka\'s', async () => {
    await ok(['topics', '--bootstrap-server', bs, '--create', '--topic', 'cli-tl', '--partitions', '2']);
    // Records with known CreateTime timestamps: partition 0 at now-60s, -30s, -10s; partition 1 at now-5s.
    const now = Date.now();
    await python<{ ok: boolean }>(
      `
import json, sys
from confluent_kafka import Producer
p = Producer({'bootstrap.servers': sys.argv[1]})
now = int(sys.argv[2])
for part, ago in [(0, 60000), (0, 30000), (0, 10000), (1, 5000)]:
    p.produce('cli-tl', value=b'v', partition=part, timestamp=now - ago)
p.flush(10)
print(json.dumps({'ok': True}))
`,
      [bs, String(now)],
    );
    // Partition 0 consumed up to offset 1 (the -30 s record is the oldest unread); partition 1 caught up.
    await ok(['consumer-groups', '--bootstrap-server', bs, '--reset-offsets', '--group', 'cli-tl-g', '--topic', 'cli-tl:0', '--to-offset', '1', '--execute']);
    await ok(['consumer-groups', '--bootstrap-server', bs, '--reset-offsets', '--group', 'cli-tl-g', '--topic', 'cli-tl:1', '--to-offset', '1', '--execute']);
    const header = (text: string) => text.split('\n').find((l) => l.startsWith('GROUP'))!.trim().split(/\s+/);
    const rows = (text: string) => text.split('\n').filter((l) => l.startsWith('cli-tl-g')).map((l) => l.trim().split(/\s+/));
    const plain = await ok(['consumer-groups', '--bootstrap-server', bs, '--describe', '--group', 'cli-tl-g']);
    assert.deepEqual(header(plain), ['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID']);
    assert.deepEqual(rows(plain), [['cli-tl-g', 'cli-tl', '0', '1', '3', '2', '-', '-', '-'], ['cli-tl-g', 'cli-tl', '1', '1', '1', '0', '-', '-', '-']]);
    const before = Date.now();
    const timed = await ok(['consumer-groups', '--bootstrap-server', bs, '--describe', '--group', 'cli-tl-g', '--time-lag']);
    const elapsed = Date.now() - now;
    assert.deepEqual(header(timed), [...header(plain), 'TIME-LAG-MS']);
    const [p0, p1] = rows(timed);
    assert.deepEqual(p0!.slice(0, 9), rows(plain)[0]);
    const lagMs = Number(p0![9]);
    assert.ok(lagMs >= 30_000 + (before - now) && lagMs <= 30_000 + elapsed, `time lag ${lagMs} ms: the -30 s record's age`);
    assert.equal(p1![9], '0', 'caught up');
    const wrongView = await tool(['consumer-groups', '--bootstrap-server', bs, '--describe', '--group', 'cli-tl-g', '--members', '--time-lag']);
    assert.equal(wrongView.code, 2);
    assert.match(await ok(['consumer-groups', '--help']), /--time-lag/);
  });

  it('consumer-groups --describe --members [--verbose] and --state while a kcat member is live', async () => {
    await ok(['topics', '--bootstrap-server', bs, '--create', '--topic', 'cli-live', '--partitions', '2']);
    const member = spawn('kcat', ['-b', bs, '-G', 'cli-live-g', '-q', 'cli-live'], { stdio: 'ignore' });
    try {
      const state = await eventually('the group is Stable', async () => {
        const r = await tool(['consumer-groups', '--bootstrap-server', bs, '--describe', '--group', 'cli-live-g', '--state']);
        return r.code === 0 && /Stable/.test(r.stdout) ? r.stdout : undefined;
      });
      assert.match(state, /GROUP\s+COORDINATOR \(ID\)\s+ASSIGNMENT-STRATEGY\s+STATE\s+#MEMBERS/);
      assert.match(state, new RegExp(`cli-live-g\\s+127\\.0\\.0\\.1:${broker.port} \\(1\\)\\s+range\\s+Stable\\s+1`));
      const members = await ok(['consumer-groups', '--bootstrap-server', bs, '--describe', '--group', 'cli-live-g', '--members', '--verbose']);
      assert.match(members, /GROUP\s+CONSUMER-ID\s+HOST\s+CLIENT-ID\s+#PARTITIONS\s+ASSIGNMENT/);
      // Kafka's host column: /127.0.0.1, not the IPv4-mapped IPv6 form.
      assert.match(members, /cli-live-g\s+rdkafka-\S+\s+\/127\.0\.0\.1\s+rdkafka\s+2\s+cli-live\(0,1\)/);
      const both = await tool(['consumer-groups', '--bootstrap-server', bs, '--describe', '--group', 'cli-live-g', '--members', '--state']);
      assert.equal(both.code, 2);
    } finally {
      member.kill('SIGKILL');
    }
    const missing = await tool(['consumer-groups', '--bootstrap-server', bs, '--describe', '--group', 'cli-nobody', '--members']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^Error: Consumer group 'cli-nobody' does not exist\./);
  });

  it('configs, get-offsets and delete-records', async () => {
    await ok(['topics', '--bootstrap-server', bs, '--create', '--topic', 'cli-o', '--partitions', '2']);
    await ok(['console-producer', '--bootstrap-server', bs, '--topic', 'cli-o', '--property', 'parse.key=true'], 'a\t1\nb\t2\nc\t3\nd\t4\ne\t5\n');
    const latest = await ok(['get-offsets', '--bootstrap-server', bs, '--topic', 'cli-o', '--time', '-1']);
    const sum = latest.trim().split('\n').reduce((s, l) => s + Number(l.split(':')[2]), 0);
    assert.equal(sum, 5);
    assert.match(latest, /^cli-o:0:\d+\ncli-o:1:\d+\n$/);
    assert.equal(await ok(['get-offsets', '--bootstrap-server', bs, '--topic', 'cli-o', '--time', '-2']), 'cli-o:0:0\ncli-o:1:0\n');

    assert.equal(await ok(['configs', '--bootstrap-server', bs, '--alter', '--entity-type', 'topics', '--entity-name', 'cli-o', '--add-config', 'retention.ms=60000,cleanup.policy=[compact,delete],max.message.bytes=2000']), 'Completed updating config for topic cli-o.\n');
    const described = await ok(['configs', '--bootstrap-server', bs, '--describe', '--entity-type', 'topics', '--entity-name', 'cli-o']);
    assert.match(described, /^Dynamic configs for topic cli-o are:\n/);
    assert.match(described, /^  retention.ms=60000 sensitive=false synonyms=\{DYNAMIC_TOPIC_CONFIG:retention.ms=60000, DEFAULT_CONFIG:log.retention.hours=168\}$/m);
    assert.match(described, /^  cleanup.policy=compact,delete sensitive=false synonyms=\{DYNAMIC_TOPIC_CONFIG:cleanup.policy=compact,delete, DEFAULT_CONFIG:log.cleanup.policy=delete\}$/m);
    assert.equal(await ok(['configs', '--bootstrap-server', bs, '--alter', '--entity-type', 'groups', '--entity-name', 'cli-g', '--add-config', 'consumer.session.timeout.ms=50000']), 'Completed updating config for group cli-g.\n');
    assert.equal(
      await ok(['configs', '--bootstrap-server', bs, '--describe', '--entity-type', 'groups', '--entity-name', 'cli-g']),
      'Dynamic configs for group cli-g are:\n  consumer.session.timeout.ms=50000 sensitive=false synonyms={GROUP_CONFIG:consumer.session.timeout.ms=50000, DEFAULT_CONFIG:group.consumer.session.timeout.ms=45000}\n',
    );
    await ok(['configs', '--bootstrap-server', bs, '--alter', '--entity-type', 'topics', '--entity-name', 'cli-o', '--delete-config', 'retention.ms']);
    assert.doesNotMatch(await ok(['configs', '--bootstrap-server', bs, '--describe', '--entity-type', 'topics', '--entity-name', 'cli-o']), /retention.ms/);
    const bad = await tool(['configs', '--bootstrap-server', bs, '--alter', '--entity-type', 'topics', '--entity-name', 'cli-o', '--add-config', 'retention.ms=soon']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Invalid value soon for configuration retention.ms: Not a number of type LONG/);
    assert.doesNotMatch(bad.stderr, /\n\s+at /);

    const p0 = Number(latest.split('\n')[0]!.split(':')[2]);
    const json = join(dir, 'offsets.json');
    writeFileSync(json, JSON.stringify({ partitions: [{ topic: 'cli-o', partition: 0, offset: p0 }], version: 1 }));
    const del = await ok(['delete-records', '--bootstrap-server', bs, '--offset-json-file', json]);
    assert.equal(del, `Executing records delete operation\nRecords delete operation completed:\npartition: cli-o-0\tlow_watermark: ${p0}\n`);
    assert.match(await ok(['get-offsets', '--bootstrap-server', bs, '--topic', 'cli-o', '--time', '-2', '--partitions', '0']), new RegExp(`^cli-o:0:${p0}\n$`));
  });

  it('perf tests print Kafka summary lines; dump-log reads segments', async () => {
    const perf = await ok(['producer-perf-test', '--bootstrap-server', bs, '--topic', 'cli-perf', '--num-records', '20000', '--record-size', '100', '--throughput', '-1', '--producer-props', 'linger.ms=5', '--producer-props', 'compression.type=lz4']);
    assert.match(perf, /^20000 records sent, [\d.]+ records\/sec \([\d.]+ MB\/sec\), [\d.]+ ms avg latency, [\d.]+ ms max latency, \d+ ms 50th, \d+ ms 95th, \d+ ms 99th, \d+ ms 99.9th\.$/m);
    const cperf = await ok(['consumer-perf-test', '--bootstrap-server', bs, '--topic', 'cli-perf', '--messages', '20000']);
    const [header, row] = cperf.trim().split('\n');
    assert.equal(header, 'start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec');
    const cols = row!.split(', ');
    assert.equal(cols.length, 10);
    assert.match(cols[0]!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}$/);
    assert.equal(cols[4], '20000');
    assert.equal(cols[2], (20000 * 100 / 1024 / 1024).toFixed(4));

    await ok(['console-producer', '--bootstrap-server', bs, '--topic', 'cli-dump', '--property', 'parse.key=true', '--property', 'key.separator=:'], 'key1:hello\nkey2:world\n');
    const segment = join(broker.dataDir, 'cli-dump-0', '00000000000000000000.log');
    const dump = await ok(['dump-log', '--files', segment, '--print-data-log']);
    const dl = dump.trimEnd().split('\n');
    assert.equal(dl[0], `Dumping ${segment}`);
    assert.equal(dl[1], 'Log starting offset: 0');
    assert.match(dl[2]!, /^baseOffset: 0 lastOffset: 1 count: 2 baseSequence: 0 lastSequence: 1 producerId: \d+ producerEpoch: 0 partitionLeaderEpoch: \d+ isTransactional: false isControl: false deleteHorizonMs: OptionalLong.empty position: 0 CreateTime: \d+ size: \d+ magic: 2 compresscodec: none crc: \d+ isvalid: true$/);
    assert.match(dl[3]!, /^\| offset: 0 CreateTime: \d+ keySize: 4 valueSize: 5 sequence: 0 headerKeys: \[\] key: key1 payload: hello$/);
    assert.match(dl[4]!, /^\| offset: 1 .* key: key2 payload: world$/);
    const missing = await tool(['dump-log', '--files', join(dir, 'nope.log')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /Cannot read .*nope.log: ENOENT/);
  });
});
