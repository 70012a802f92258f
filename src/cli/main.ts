// The `tributary` command: dispatches to one tool per subcommand.
import { runServer } from './server-command.js';
import { runTopics } from './topics-command.js';
import { runConsoleProducer } from './console-producer-command.js';
import { runConsoleConsumer } from './console-consumer-command.js';
import { runConfigs } from './configs-command.js';
import { runAcls } from './acls-command.js';
import { runTransactions } from './transactions-command.js';
import { runGetOffsets } from './get-offsets-command.js';
import { runDeleteRecords } from './delete-records-command.js';
import { runProducerPerfTest } from './producer-perf-test-command.js';
import { runConsumerPerfTest } from './consumer-perf-test-command.js';
import { runDumpLog } from './dump-log-command.js';
import { runConsumerGroups } from './consumer-groups-command.js';
import { runFeatures } from './features-command.js';
import { runStorage } from './storage-command.js';
import { runCluster } from './cluster-command.js';
import { runMetadataQuorum } from './metadata-quorum-command.js';

const USAGE = `Usage: tributary <command> [options]

Commands:
  server [server.properties] [--override key=value ...]   start a broker
  topics               create, list, describe, alter, delete topics
  console-producer     produce stdin lines
  console-consumer     print records
  consumer-groups      list, describe, reset offsets of, delete consumer groups
  configs              describe and alter topic, broker, group configs and user SCRAM credentials
  acls                 add, remove, list ACLs (kafka-acls.sh)
  transactions         list, describe, describe-producers, find-hanging, abort (kafka-transactions.sh)
  get-offsets          print partition offsets (latest, earliest, by time)
  delete-records       delete records up to offsets (--offset-json-file)
  producer-perf-test   producer throughput and latency test
  consumer-perf-test   consumer throughput test
  dump-log             print the batches and records of .log segment files
  features             describe, upgrade, downgrade, disable feature flags (metadata.version, ...)
  cluster              cluster-id: the cluster id the brokers report (kafka-cluster.sh)
  metadata-quorum      describe --status | --replication: the KRaft quorum (kafka-metadata-quorum.sh)
  storage              format, info, random-uuid: the node's data directories (kafka-storage.sh)
`;

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'server':
      return runServer(rest);
    case 'topics':
      return runTopics(rest);
    case 'console-producer':
      return runConsoleProducer(rest);
    case 'console-consumer':
      return runConsoleConsumer(rest);
    case 'consumer-groups':
      return runConsumerGroups(rest);
    case 'configs':
      return runConfigs(rest);
    case 'acls':
      return runAcls(rest);
    case 'transactions':
      return runTransactions(rest);
    case 'get-offsets':
      return runGetOffsets(rest);
    case 'delete-records':
      return runDeleteRecords(rest);
    case 'producer-perf-test':
      return runProducerPerfTest(rest);
    case 'consumer-perf-test':
      return runConsumerPerfTest(rest);
    case 'dump-log':
      return runDumpLog(rest);
    case 'features':
      return runFeatures(rest);
    case 'storage':
      return runStorage(rest);
    case 'cluster':
      return runCluster(rest);
    case 'metadata-quorum':
      return runMetadataQuorum(rest);
    case 'cluster-id':
      return runCluster(['cluster-id', ...rest]);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return;
    default:
      process.stderr.write(`Unknown command '${command}'.\n${USAGE}`);
      process.exitCode = 2;
  }
}
