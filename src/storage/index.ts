// Public API of the storage layer.
export * from './errors.js';
export * from './clock.js';
export * from './config.js';
export type { PartitionStore, AppendOptions, AppendResult, ReadResult, TimestampAndOffset } from './partition-store.js';
export { noRelease } from './partition-store.js';
export { readWholeLog } from './read-whole-log.js';
export { ReadBufferPool, DEFAULT_READ_BUFFER_POOL_OPTIONS, type ReadBufferPoolOptions, type ReadBufferPoolStats } from './read-buffer-pool.js';
export { PartitionLog, type PartitionLogOptions, type LogLoadStats } from './partition-log.js';
export { MemoryPartitionLog } from './memory-partition-log.js';
export { LogManager, type LogManagerOptions } from './log-manager.js';
export { LogSegment } from './log-segment.js';
export { OffsetIndex } from './offset-index.js';
export { TimeIndex } from './time-index.js';
export { ProducerStateManager, lastSequence, type ProducerEntry, type BatchMetadata } from './producer-state.js';
export { readOffsetCheckpoint, writeOffsetCheckpoint, partitionKey } from './checkpoint.js';
export type { RecoveryHooks } from './recovery.js';
export type { RecordsDecompressor } from './batches.js';
export * from './files.js';
