// Compile-time checks (run by `tsc -p tsconfig.json` at the root): the real kafkajs 2.x
// client types fit Baton's structural shapes, and the traced views keep the client's types.
import type {
  Admin,
  Consumer,
  EachBatchPayload,
  EachMessageHandler,
  EachMessagePayload,
  Producer,
  Transaction,
} from 'kafkajs';
import {
  type KafkaAdminLike,
  type KafkaConsumerLike,
  type KafkaProducerLike,
  type KafkaSenderLike,
  messageContextOf,
  runInMessageContext,
  traceConsumer,
  traceHandler,
  traceProducer,
} from '../src/index.js';

declare const producer: Producer;
declare const consumer: Consumer;
declare const admin: Admin;
declare const transaction: Transaction;
declare const payload: EachBatchPayload;
declare const handle: (payload: EachMessagePayload) => Promise<void>;

export const producerFits: KafkaProducerLike = producer;
export const consumerFits: KafkaConsumerLike = consumer;
export const adminFits: KafkaAdminLike = admin;
export const transactionFits: KafkaSenderLike = transaction;
export const tracedProducer: Producer = traceProducer(producer, { createSpans: true });
export const tracedConsumer: Consumer = traceConsumer(consumer, {
  consumerGroup: 'g',
  lagAdmin: admin,
  onError: (_error, info) => info.operation satisfies 'lag',
});
export const tracedHandler: EachMessageHandler = traceHandler(handle, { consumerGroup: 'g' });
const [first] = payload.batch.messages;
export const inContext: Promise<void> | undefined =
  first && runInMessageContext(first, async () => {});
export const contextOf = first && messageContextOf(first);
