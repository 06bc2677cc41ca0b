import { runConformanceSuite } from '@baton/testing/conformance';
import { createEventBus } from '../src/index.js';

runConformanceSuite({
  name: '@baton/event-emitter',
  onHandlerError: 'report',
  capabilities: { publishRepeated: true },
  async createHarness(options) {
    const bus = createEventBus<{ conformance: string }>({ ...options, onError: () => {} });
    return {
      publish: async (body) => bus.publish('conformance', body),
      publishRaw: async (body, headers) => bus.relay('conformance', body, headers),
      // A relayed event's headers repeat a key as an array, as Kafka's do.
      publishRepeated: async (body, headers) => bus.relay('conformance', body, { ...headers }),
      async startConsumer(handler) {
        bus.subscribe('conformance', (body) => handler(body), { consumerGroup: 'conformance' });
      },
      close: () => bus.idle(),
    };
  },
});
