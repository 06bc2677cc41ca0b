export { runInMessageContext } from '@baton/core';
export { CONTEXT_FIELDS, entryTimestampMs } from './carrier.js';
export { createConsumer } from './consumer.js';
export { DEFAULT_CONSUMER_OPTIONS } from './consumer-options.js';
export { DEAD_LETTER_FIELDS, type DeadLetterReason } from './dead-letter.js';
export {
  createGroupConsumer,
  type EntryHandlerOptions,
  type GroupConsumer,
  type GroupConsumerOptions,
  type TracedEntryHandler,
  traceEntryHandler,
} from './deprecated-consumer.js';
export type {
  AddCallback,
  AddOptions,
  PipelineLike,
  StreamFields,
  StreamProducer,
} from './deprecated-producer.js';
export { healthOf } from './health.js';
export { traceProducer } from './producer.js';
export { traceHandler } from './trace-handler.js';
export type {
  BatchHandler,
  ConsumerErrorInfo,
  EntryHandler,
  FieldBytes,
  FieldEncoding,
  FieldValue,
  ProducerClient,
  RawStreamEntry,
  ServerSource,
  StreamConsumer,
  StreamConsumerOptions,
  StreamEntry,
  TracedHandler,
  TraceHandlerOptions,
} from './types.js';
