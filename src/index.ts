// Public entry point of the `tributary` package.
export { Broker, type BrokerStartOptions } from './node/broker.js';
export { BrokerConfig, ConfigError } from './broker/config.js';
export { ErrorCode, KafkaError, errorName, isRetriable } from './protocol/errors.js';
export {
  Producer,
  Consumer,
  Admin,
  KafkaClientError,
  type ProducerOptions,
  type ProducerRecord,
  type RecordMetadata,
  type ConsumerOptions,
  type ConsumerRecord,
  type ConsumerBatch,
  type AdminOptions,
} from './client/index.js';
