// __transaction_state as the transaction coordinator sees it (coordinator/internal-topic.ts):
// transaction.state.log.num.partitions partitions (default 50), replication factor
// transaction.state.log.replication.factor capped at the live brokers, segment.bytes from
// transaction.state.log.segment.bytes, min.insync.replicas from transaction.state.log.min.isr
// (capped at the replication factor, so a one-node broker can write it with Kafka's defaults).
import type { BrokerConfig } from '../config.js';
import { internalTopicLog, type InternalTopicDeps } from '../coordinator/internal-topic.js';
import { DEFAULT_TXN_LIMITS, type TxnCoordinatorConfig, type TxnLogStore } from './transaction-coordinator.js';
import { TRANSACTION_STATE_TOPIC } from './txn-log.js';

export function transactionStateTopic(deps: InternalTopicDeps): TxnLogStore {
  return internalTopicLog(deps, {
    name: TRANSACTION_STATE_TOPIC,
    numPartitionsKey: 'transaction.state.log.num.partitions',
    replicationFactorKey: 'transaction.state.log.replication.factor',
    segmentBytesKey: 'transaction.state.log.segment.bytes',
    extraConfigs: (config, rf) => [{ name: 'min.insync.replicas', value: String(Math.min(config.int('transaction.state.log.min.isr'), rf)) }],
  });
}

export function txnCoordinatorConfig(config: BrokerConfig): TxnCoordinatorConfig {
  return {
    maxTimeoutMs: config.int('transaction.max.timeout.ms'),
    transactionalIdExpirationMs: config.int('transactional.id.expiration.ms'),
    abortTimedOutIntervalMs: config.int('transaction.abort.timed.out.transaction.cleanup.interval.ms'),
    removeExpiredIntervalMs: config.int('transaction.remove.expired.transaction.cleanup.interval.ms'),
    ...DEFAULT_TXN_LIMITS,
  };
}
