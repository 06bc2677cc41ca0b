export { CONTEXT_FIELDS, entryTimestampMs } from './carrier.js';
export { createGroupConsumer } from './consumer.js';
export { DEFAULT_CONSUMER_OPTIONS } from './consumer-options.js';
export { DEAD_LETTER_FIELDS, type DeadLetterReason } from './dead-letter.js';
export { traceEntryHandler } from './entry-handler.js';
export { traceProducer } from './producer.js';
export type {
  AddCallback,
  AddOptions,
  BatchHandler,
  ConsumerErrorInfo,
  EntryHandler,
  EntryHandlerOptions,
  FieldBytes,
  FieldEncoding,
  FieldValue,
  GroupConsumer,
  GroupConsumerOptions,
  PipelineLike,
  ProducerClient,
  RawStreamEntry,
  StreamEntry,
  StreamFields,
  StreamProducer,
  TracedEntryHandler,
} from './types.js';
