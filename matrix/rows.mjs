// The compatibility matrix's rows: what README.md's "Compatibility" table claims, each row
// an exact set of versions that matrix/run.mjs installs and checks it resolved. Exact
// versions, so the table can name them; bump a row when a new release should be proved.
// The peer ranges in packages/*/package.json claim no more than these rows cover: a range's
// floor is in the oldest row, its newest major in another.
export const ROWS = [
  {
    name: 'newest',
    title: 'the newest of everything: OpenTelemetry api 1.10 + SDK 3.x, ioredis 6, amqplib 2',
    node: '24.21.0',
    versions: {
      '@opentelemetry/api': '1.10.0',
      '@opentelemetry/sdk-trace': '3.1.1',
      '@opentelemetry/sdk-metrics': '3.1.1',
      '@opentelemetry/context-async-hooks': '3.1.1',
      ioredis: '6.0.0',
      amqplib: '2.3.1',
      pino: '10.4.0',
      kafkajs: '2.2.4',
    },
  },
  {
    name: 'oldest',
    title: 'the oldest supported: every peer range at its floor, on Node 22.15',
    node: '22.15.0',
    versions: {
      '@opentelemetry/api': '1.9.0',
      '@opentelemetry/sdk-trace-base': '2.12.0',
      '@opentelemetry/sdk-trace': '2.12.0',
      '@opentelemetry/sdk-metrics': '2.12.0',
      '@opentelemetry/context-async-hooks': '2.12.0',
      ioredis: '5.3.0',
      amqplib: '0.10.0',
      pino: '9.0.0',
      kafkajs: '2.2.4',
      // @baton/testing's optional peer (its conformance suite), at its floor.
      vitest: '3.2.4',
    },
  },
  {
    name: 'amqplib-1',
    title: 'amqplib 1.x, with the newest releases of ioredis 5, pino 9, vitest 4 and SDK 2.x',
    node: '24.21.0',
    versions: {
      '@opentelemetry/api': '1.9.1',
      '@opentelemetry/sdk-trace-base': '2.12.1',
      '@opentelemetry/sdk-trace': '2.12.1',
      '@opentelemetry/sdk-metrics': '2.12.1',
      '@opentelemetry/context-async-hooks': '2.12.1',
      ioredis: '5.11.1',
      amqplib: '1.2.0',
      pino: '9.14.0',
      kafkajs: '2.2.4',
      vitest: '4.1.12',
    },
  },
];
