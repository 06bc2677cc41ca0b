// Compile-time checks (run by `tsc -p tsconfig.json` at the root): the real kafkajs 2.x
// client types fit Baton's structural shapes, and the traced views keep the client's types.
import type { Admin, Consumer, EachBatchPayload, Producer, Transaction } from 'kafkajs';
import {
  type KafkaAdminLike,
  type KafkaConsumerLike,
  type KafkaProducerLike,
  type KafkaSenderLike,
  runInMessageContext,
  traceConsumer,
  traceProducer,
} from '../src/index.js';

declare const producer: Producer;
declare const consumer: Consumer;
declare const admin: Admin;
declare const transaction: Transaction;
declare const payload: EachBatchPayload;

export const producerFits: KafkaProducerLike = producer;
export const consumerFits: KafkaConsumerLike = consumer;
export const adminFits: KafkaAdminLike = admin;
export const transactionFits: KafkaSenderLike = transaction;
export const tracedProducer: Producer = traceProducer(producer);
export const tracedConsumer: Consumer = traceConsumer(consumer, { groupId: 'g', lagAdmin: admin });
export const inContext: Promise<void> = runInMessageContext(
  payload,
  payload.batch.messages[0] ?? 0,
  async () => {},
);
