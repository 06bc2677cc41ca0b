export { messageContextOf } from '@baton/core';
export { batchMessageContext, runInMessageContext } from './batch-scope.js';
export { traceConsumer } from './consumer.js';
export {
  ATTR_KAFKA_MESSAGE_KEY,
  ATTR_KAFKA_MESSAGE_TOMBSTONE,
  ATTR_KAFKA_OFFSET,
  KAFKA_SYSTEM,
} from './describe.js';
export { kafkaErrorType } from './error-type.js';
export { traceHandler } from './handler.js';
export { healthOf } from './health.js';
export { DEFAULT_KAFKA_CONSUMER_OPTIONS, DEFAULT_KAFKA_OPTIONS } from './options.js';
export { traceProducer } from './producer.js';
export type {
  KafkaAdminLike,
  KafkaBatchLike,
  KafkaConsumedMessageLike,
  KafkaConsumerLike,
  KafkaConsumerOptions,
  KafkaEachBatchPayloadLike,
  KafkaEachMessagePayloadLike,
  KafkaErrorInfo,
  KafkaHandlerOptions,
  KafkaInstrumentationEventLike,
  KafkaMessageLike,
  KafkaProducerBatchLike,
  KafkaProducerLike,
  KafkaProducerOptions,
  KafkaProducerRecordLike,
  KafkaRunConfigLike,
  KafkaSenderLike,
  KafkaTopicPartitionOffsetLike,
} from './types.js';
