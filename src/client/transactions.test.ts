import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../protocol/errors.js';
import { Cluster } from './cluster.js';
import { ProducerFencedError, TransactionStateError } from './errors.js';
import { TransactionManager, TxnState, isFatalTxnError } from './transactions.js';

function manager(): TransactionManager {
  // No request is sent: the cluster is never connected.
  return new TransactionManager(new Cluster({ bootstrapServers: 'localhost:1' }), 't', 60_000, 1000);
}

test('the transaction state table: the happy path, and out-of-order calls refused with the states named', () => {
  const m = manager();
  assert.throws(() => m.transition(TxnState.InTransaction), /from state Uninitialized to state InTransaction/);
  for (const to of [TxnState.Initializing, TxnState.Ready, TxnState.InTransaction, TxnState.Committing, TxnState.Ready, TxnState.InTransaction, TxnState.Aborting, TxnState.Ready]) m.transition(to);
  assert.throws(() => m.transition(TxnState.Committing), TransactionStateError);
  assert.throws(() => m.transition(TxnState.Aborting), TransactionStateError);
});

test('sends are allowed only inside a transaction', () => {
  const m = manager();
  assert.throws(() => m.checkCanSend(), /outside a transaction \(state Uninitialized\)/);
  m.transition(TxnState.Initializing);
  m.transition(TxnState.Ready);
  assert.throws(() => m.checkCanSend(), /call beginTransaction\(\) first/);
  m.transition(TxnState.InTransaction);
  m.checkCanSend();
  m.transition(TxnState.Committing);
  assert.throws(() => m.checkCanSend(), TransactionStateError);
});

test('an abortable error allows only abort, and names its cause', () => {
  const m = manager();
  m.transition(TxnState.Initializing);
  m.transition(TxnState.Ready);
  m.setAbortable(new Error('not in a transaction')); // ignored outside one
  assert.equal(m.state, TxnState.Ready);
  m.transition(TxnState.InTransaction);
  m.setAbortable(new Error('send failed'));
  m.setAbortable(new Error('a later one'));
  assert.equal(m.state, TxnState.AbortableError);
  assert.equal(m.abortableError?.message, 'send failed');
  assert.throws(() => m.checkCanSend(), /send failed/);
  assert.throws(() => m.transition(TxnState.Committing), /must be aborted/);
  m.transition(TxnState.Aborting);
});

test('a fatal error is final: every transition throws it', () => {
  const m = manager();
  const fenced = new ProducerFencedError(ErrorCode.PRODUCER_FENCED);
  m.setFatal(fenced);
  assert.throws(() => m.transition(TxnState.Initializing), (e: unknown) => e === fenced);
  assert.throws(() => m.checkCanSend(), (e: unknown) => e === fenced);
  m.setAbortable(new Error('x'));
  assert.equal(m.state, TxnState.FatalError);
});

test('fatal codes: fenced, old epoch, transactional id not authorized; retriable ones are not', () => {
  for (const c of [ErrorCode.PRODUCER_FENCED, ErrorCode.INVALID_PRODUCER_EPOCH, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED]) assert.ok(isFatalTxnError(c));
  for (const c of [ErrorCode.CONCURRENT_TRANSACTIONS, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.NOT_COORDINATOR, ErrorCode.INVALID_TXN_STATE]) assert.ok(!isFatalTxnError(c));
});

test('transactional.id implies idempotence and acks=all; a producer without one has no transactions', async () => {
  const { Producer } = await import('./producer.js');
  const bootstrapServers = 'localhost:1';
  assert.throws(() => new Producer({ bootstrapServers, transactionalId: 't', idempotent: false }), /requires enable\.idempotence=true/);
  assert.throws(() => new Producer({ bootstrapServers, transactionalId: 't', acks: 1 }), /requires acks=all/);
  assert.throws(() => new Producer({ bootstrapServers, transactionalId: 't', transactionTimeoutMs: 0 }), /transaction\.timeout\.ms/);
  const p = new Producer({ bootstrapServers, transactionalId: 't' });
  assert.equal(p.idempotent, true);
  assert.equal(p.transactionState, TxnState.Uninitialized);
  assert.throws(() => p.beginTransaction(), /call initTransactions\(\) first/);
  const plain = new Producer({ bootstrapServers });
  assert.equal(plain.transactionState, null);
  await assert.rejects(plain.initTransactions(), /no transactional\.id/);
  await p.close({ force: true });
  await plain.close({ force: true });
});
