// Kafka client properties (the files given to tools with --command-config / --producer.config,
// or `k=v` pairs) mapped onto the client's camelCase options.
import { parseProperties } from '../protocol/properties.js';
import { PLAIN_LOGIN_MODULE, SCRAM_LOGIN_MODULE, parseJaasConfigOf } from '../protocol/jaas-config.js';
import { scramMechanismByName } from '../protocol/scram.js';
import { sslStoreOptions } from '../protocol/ssl-stores.js';
import type { ConnectionSaslOptions, ConnectionTlsOptions } from './connection.js';
import type { ConsumerOptions } from './consumer.js';
import type { ProducerOptions, CompressionName } from './producer.js';

export type AnyClientOptions = Partial<ProducerOptions & ConsumerOptions>;

/** Client properties files are read with the one .properties parser of the broker and the tools. */
export { parseProperties };

function int(key: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || !Number.isInteger(n)) throw new Error(`invalid value '${v}' for ${key}: expected an integer`);
  return n;
}

function bool(key: string, v: string): boolean {
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new Error(`invalid value '${v}' for ${key}: expected true or false`);
}

// Settings Kafka's clients accept that have no effect here (or are implied), accepted quietly so
// existing property files work.
const IGNORED = new Set([
  'key.serializer',
  'value.serializer',
  'key.deserializer',
  'value.deserializer',
  'send.buffer.bytes',
  'receive.buffer.bytes',
  'reconnect.backoff.ms',
  'reconnect.backoff.max.ms',
  'connections.max.idle.ms',
  'client.dns.lookup',
  'max.poll.records',
  'check.crcs',
  'exclude.internal.topics',
]);

/** Kafka's client TLS settings (the stores as the broker reads them, protocol/ssl-stores.ts). */
const SSL_KEYS = new Set([
  'ssl.keystore.type', 'ssl.keystore.location', 'ssl.keystore.password', 'ssl.key.password',
  'ssl.keystore.certificate.chain', 'ssl.keystore.key',
  'ssl.truststore.type', 'ssl.truststore.location', 'ssl.truststore.password', 'ssl.truststore.certificates',
  'ssl.enabled.protocols', 'ssl.protocol', 'ssl.cipher.suites', 'ssl.endpoint.identification.algorithm',
]);

function clientTlsOptions(ssl: ReadonlyMap<string, string>): ConnectionTlsOptions {
  const { hasKeyStore: _hasKeyStore, ...options } = sslStoreOptions(
    (k) => ssl.get(k) ?? null,
    (key, why) => {
      throw new Error(`invalid value for ${key}: ${why}`);
    },
  );
  // Kafka verifies the broker's host name unless the algorithm is set to empty.
  const identification = ssl.get('ssl.endpoint.identification.algorithm') ?? 'https';
  if (identification === '') return { ...options, checkServerIdentity: () => undefined };
  if (identification.toLowerCase() !== 'https') throw new Error(`invalid value '${identification}' for ssl.endpoint.identification.algorithm: expected https or empty`);
  return options;
}

/** sasl.mechanism (Kafka's client default GSSAPI; PLAIN or SCRAM-SHA-256/512 here) and the
 * username and password of sasl.jaas.config's PlainLoginModule or ScramLoginModule. */
function clientSaslOptions(sasl: ReadonlyMap<string, string>): ConnectionSaslOptions {
  const mechanism = (sasl.get('sasl.mechanism') ?? 'GSSAPI').toUpperCase();
  if (mechanism !== 'PLAIN' && scramMechanismByName(mechanism) === undefined) {
    throw new Error(`invalid value '${mechanism}' for sasl.mechanism: PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 are supported`);
  }
  const loginModule = mechanism === 'PLAIN' ? PLAIN_LOGIN_MODULE : SCRAM_LOGIN_MODULE;
  const jaas = sasl.get('sasl.jaas.config');
  if (jaas === undefined) throw new Error(`sasl.mechanism=${mechanism} needs sasl.jaas.config (${loginModule} required username="..." password="...";)`);
  const expected = `expected ${loginModule} required username="..." password="...";`;
  let options: Map<string, string>;
  try {
    options = parseJaasConfigOf(jaas, loginModule);
  } catch (err) {
    throw new Error(`invalid value for sasl.jaas.config: ${(err as Error).message} (${expected})`);
  }
  const username = options.get('username');
  const password = options.get('password');
  if (username === undefined || password === undefined) throw new Error(`invalid value for sasl.jaas.config: ${expected}`);
  return { mechanism: mechanism as ConnectionSaslOptions['mechanism'], username, password };
}

/** Maps Kafka property names to client options; throws for unknown keys and bad values. */
export function clientOptionsFromProperties(props: ReadonlyMap<string, string>): AnyClientOptions {
  const o: AnyClientOptions = {};
  let protocol = 'PLAINTEXT';
  const ssl = new Map<string, string>();
  const sasl = new Map<string, string>();
  for (const [key, v] of props) {
    switch (key) {
      case 'bootstrap.servers':
        o.bootstrapServers = v;
        break;
      case 'client.id':
        o.clientId = v;
        break;
      case 'security.protocol':
        if (!['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'].includes(v.toUpperCase())) throw new Error(`invalid value '${v}' for security.protocol: expected PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL`);
        protocol = v.toUpperCase();
        break;
      case 'request.timeout.ms':
        o.requestTimeoutMs = int(key, v);
        break;
      case 'socket.connection.setup.timeout.ms':
        o.connectTimeoutMs = int(key, v);
        break;
      case 'retries':
        o.retries = int(key, v);
        break;
      case 'retry.backoff.ms':
        o.retryBackoffMs = int(key, v);
        break;
      case 'retry.backoff.max.ms':
        o.retryBackoffMaxMs = int(key, v);
        break;
      case 'metadata.max.age.ms':
        o.metadataMaxAgeMs = int(key, v);
        break;
      case 'acks':
        if (v === 'all' || v === '-1') o.acks = -1;
        else if (v === '0' || v === '1') o.acks = Number(v) as 0 | 1;
        else throw new Error(`invalid value '${v}' for acks: expected all, -1, 0 or 1`);
        break;
      case 'linger.ms':
        o.lingerMs = int(key, v);
        break;
      case 'batch.size':
        o.batchSize = int(key, v);
        break;
      case 'compression.type':
        if (!['none', 'gzip', 'snappy', 'lz4', 'zstd'].includes(v)) throw new Error(`invalid value '${v}' for compression.type`);
        o.compression = v as CompressionName;
        break;
      case 'enable.idempotence':
        o.idempotent = bool(key, v);
        break;
      case 'buffer.memory':
        o.bufferMemory = int(key, v);
        break;
      case 'max.in.flight.requests.per.connection':
        o.maxInFlightPerPartition = int(key, v);
        break;
      case 'delivery.timeout.ms':
        o.deliveryTimeoutMs = int(key, v);
        break;
      case 'max.block.ms':
        o.maxBlockMs = int(key, v);
        break;
      case 'max.request.size':
        o.maxRequestSize = int(key, v);
        break;
      case 'transactional.id':
        o.transactionalId = v;
        break;
      case 'transaction.timeout.ms':
        o.transactionTimeoutMs = int(key, v);
        break;
      case 'allow.auto.create.topics':
        o.allowAutoTopicCreation = bool(key, v);
        break;
      case 'group.id':
        o.groupId = v;
        break;
      case 'group.instance.id':
        o.groupInstanceId = v;
        break;
      case 'auto.offset.reset':
        if (v !== 'earliest' && v !== 'latest' && v !== 'none') throw new Error(`invalid value '${v}' for auto.offset.reset`);
        o.autoOffsetReset = v;
        break;
      case 'isolation.level':
        if (v !== 'read_committed' && v !== 'read_uncommitted') throw new Error(`invalid value '${v}' for isolation.level`);
        o.isolationLevel = v;
        break;
      case 'fetch.max.wait.ms':
        o.maxWaitMs = int(key, v);
        break;
      case 'fetch.min.bytes':
        o.minBytes = int(key, v);
        break;
      case 'fetch.max.bytes':
        o.maxBytes = int(key, v);
        break;
      case 'max.partition.fetch.bytes':
        o.maxPartitionBytes = int(key, v);
        break;
      case 'enable.auto.commit':
        o.autoCommit = bool(key, v);
        break;
      case 'auto.commit.interval.ms':
        o.autoCommitIntervalMs = int(key, v);
        break;
      case 'session.timeout.ms':
        o.sessionTimeoutMs = int(key, v);
        break;
      case 'max.poll.interval.ms':
        o.rebalanceTimeoutMs = int(key, v);
        break;
      case 'heartbeat.interval.ms':
        o.heartbeatIntervalMs = int(key, v);
        break;
      case 'partition.assignment.strategy':
        o.assignors = v.split(',').map((s) => {
          const name = s.trim();
          if (name.endsWith('RangeAssignor') || name === 'range') return 'range';
          if (name.endsWith('CooperativeStickyAssignor') || name === 'cooperative-sticky') return 'cooperative-sticky';
          throw new Error(`unsupported partition.assignment.strategy '${name}'`);
        });
        break;
      default:
        if (SSL_KEYS.has(key)) ssl.set(key, v);
        else if (key === 'sasl.mechanism' || key === 'sasl.jaas.config') sasl.set(key, v);
        else if (!IGNORED.has(key)) throw new Error(`unknown client property '${key}'`);
    }
  }
  if (protocol === 'SSL' || protocol === 'SASL_SSL') o.ssl = clientTlsOptions(ssl);
  else if (ssl.size > 0) throw new Error(`${[...ssl.keys()][0]} needs security.protocol=SSL or SASL_SSL`);
  if (protocol.startsWith('SASL_')) o.sasl = clientSaslOptions(sasl);
  else if (sasl.size > 0) throw new Error(`${[...sasl.keys()][0]} needs security.protocol=SASL_PLAINTEXT or SASL_SSL`);
  return o;
}
