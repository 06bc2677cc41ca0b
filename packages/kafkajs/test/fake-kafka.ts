// An in-memory Kafka with kafkajs 2.x shapes, for unit tests (see fake/*.ts). It reproduces
// what matters to Baton: headers are encoded per value (arrays become repeated headers) and
// decoded the way kafkajs decodes them (Buffers; a repeated key becomes an array of
// Buffers; null stays null; keys keep their case); offsets and timestamps are strings;
// consumer groups with generations, rebalances and committed offsets; failures make the
// consumer restart from the committed offsets, as kafkajs does; the consumer emits
// kafkajs's instrumentation events; faults can be injected into fetches, commits,
// heartbeats and sends.
export { COORDINATOR, type FakeFaults, type FakeGroup, FakeKafka } from './fake/broker.js';
export {
  CONSUMER_EVENTS,
  FakeConsumer,
  type FakeConsumerConfig,
  type FakeRunConfig,
} from './fake/consumer.js';
export type { FakeBatchPayload, FakeEachMessagePayload } from './fake/payloads.js';
export { FakeProducer } from './fake/producer.js';
export type { FakeConsumedMessage, FakeMessage } from './fake/records.js';
