// Public surface of the record batch v2 codec, compression codecs and their errors.
export * from './batch-header.js';
export * from './compression.js';
export * from './crc32c.js';
export * from './errors.js';
export * from './record-batch.js';
export * from './record-walker.js';
