// A CommonJS user file: require() of the ESM packages (Node 22.12+), and no OpenTelemetry
// SDK at all. Context and correlation ids still cross the in-process bus and reach the logs.
import core = require('@baton/core');
import amqplib = require('@baton/amqplib');
import eventEmitter = require('@baton/event-emitter');
import ioredis = require('@baton/ioredis');
import kafkajs = require('@baton/kafkajs');
import batonPino = require('@baton/pino');
import testing = require('@baton/testing');

let failures = 0;
function check(ok: boolean, what: string): void {
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures += 1;
}

const exported = {
  '@baton/core': core.edgeContext,
  '@baton/amqplib': amqplib.traceChannel,
  '@baton/event-emitter': eventEmitter.createEventBus,
  '@baton/ioredis': ioredis.traceProducer,
  '@baton/kafkajs': kafkajs.traceProducer,
  '@baton/pino': batonPino.createLogger,
  '@baton/testing': testing.createTestTelemetry,
};
for (const [name, fn] of Object.entries(exported)) {
  check(typeof fn === 'function', `require('${name}') returns its exports`);
}

async function main(): Promise<void> {
  const lines: Array<Record<string, unknown>> = [];
  const logger = batonPino.createLogger(
    { name: 'baton-smoke-cjs', base: null },
    { write: (text: string) => void lines.push(JSON.parse(text) as Record<string, unknown>) },
  );
  const bus = eventEmitter.createEventBus<{ 'user.registered': { id: string } }>();
  bus.subscribe('user.registered', ({ id }) => logger.info({ id }, 'consumed'));
  const incoming = {
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    'x-correlation-id': 'smoke-cjs-1',
  };
  core.runWithContext(core.edgeContext(incoming), () => {
    logger.info('publishing');
    bus.publish('user.registered', { id: 'u-1' });
  });
  await bus.idle();
  check(
    lines.map((line) => line.msg).join(',') === 'publishing,consumed' &&
      lines.every(
        (line) =>
          line.trace_id === '0af7651916cd43dd8448eb211c80319c' &&
          line.correlation_id === 'smoke-cjs-1',
      ),
    `no SDK: ${lines.length} pino lines carry the incoming trace_id and correlation_id across the bus`,
  );
  process.exitCode = failures === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  check(false, String(error));
  process.exitCode = 1;
});
