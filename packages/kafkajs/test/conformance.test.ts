import { runConformanceSuite } from '@baton/testing/conformance';
import { traceConsumer, traceProducer } from '../src/index.js';
import { FakeKafka } from './fake-kafka.js';

// kafkajs retries a message whose eachMessage handler threw (the consumer restarts from
// the last resolved offset), so the expected failure semantics are 'redeliver'.
runConformanceSuite({
  name: '@baton/kafkajs (kafkajs-shaped fake broker)',
  onHandlerError: 'redeliver',
  async createHarness(options) {
    const kafka = new FakeKafka();
    const topic = 'conformance';
    const producer = traceProducer(kafka.producer(), options);
    let consumer: ReturnType<FakeKafka['consumer']> | undefined;
    return {
      async publish(body) {
        await producer.send({ topic, messages: [{ value: body }] });
      },
      async publishRaw(body, headers) {
        await kafka.producer().send({ topic, messages: [{ value: body, headers }] });
      },
      async startConsumer(handler) {
        const groupId = 'conformance-group';
        consumer = traceConsumer(kafka.consumer({ groupId }), {
          ...options,
          consumerGroup: groupId,
        });
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ message }) => handler(message.value?.toString() ?? ''),
        });
      },
      async close() {
        await consumer?.disconnect();
      },
    };
  },
});
