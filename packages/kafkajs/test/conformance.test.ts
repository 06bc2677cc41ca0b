import { type ConformanceOptions, runConformanceSuite } from '@baton/testing/conformance';
import { runInMessageContext, traceConsumer, traceProducer } from '../src/index.js';
import { FakeKafka } from './fake-kafka.js';

// kafkajs retries a message whose handler threw (the consumer restarts from the last
// resolved offset), so the expected failure semantics are 'redeliver', in both modes.
const harness =
  (delivery: 'message' | 'batch'): ConformanceOptions['createHarness'] =>
  async (options) => {
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
      // Kafka repeats a header key as an array value.
      async publishRepeated(body, headers) {
        await kafka.producer().send({
          topic,
          messages: [{ value: body, headers: { ...headers } as Record<string, string[]> }],
        });
      },
      async startConsumer(handler) {
        const groupId = 'conformance-group';
        consumer = traceConsumer(kafka.consumer({ groupId }), {
          ...options,
          consumerGroup: groupId,
        });
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run(
          delivery === 'message'
            ? { eachMessage: async ({ message }) => handler(message.value?.toString() ?? '') }
            : {
                eachBatch: async ({ batch, resolveOffset }) => {
                  for (const message of batch.messages) {
                    await runInMessageContext(message, () =>
                      handler(message.value?.toString() ?? ''),
                    );
                    resolveOffset(message.offset);
                  }
                },
              },
        );
      },
      async close() {
        await consumer?.disconnect();
      },
    };
  };

for (const delivery of ['message', 'batch'] as const) {
  runConformanceSuite({
    name: `@baton/kafkajs (kafkajs-shaped fake broker, ${delivery === 'message' ? 'eachMessage' : 'eachBatch'})`,
    onHandlerError: 'redeliver',
    delivery,
    capabilities: { publishRepeated: true },
    createHarness: harness(delivery),
  });
}
