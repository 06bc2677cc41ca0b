import { createRequire } from 'node:module';
import { traceChannel } from '@baton/amqplib';
import { createTestTelemetry, type TestTelemetry, waitFor } from '@baton/testing';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { brokerOrSkip, uniqueName } from './brokers.js';

const url = await brokerOrSkip('rabbitmq');
// amqplib 1.x and 2.x are installed under aliases in @baton/amqplib's devDependencies.
const requireFromAdapter = createRequire(
  new URL('../packages/amqplib/package.json', import.meta.url),
);

interface PromiseApi {
  connect(url: string): Promise<{
    createConfirmChannel(): Promise<ConfirmChannel>;
    close(): Promise<void>;
  }>;
}
interface CallbackChannel {
  assertQueue(queue: string, options: object, cb: (error: unknown) => void): void;
  publish(exchange: string, key: string, content: Buffer, options?: object): boolean;
  sendToQueue(queue: string, content: Buffer, options?: object): boolean;
  consume(
    queue: string,
    onMessage: (msg: ConsumeMessage | null) => void,
    options: object,
    cb: (error: unknown) => void,
  ): void;
  get(
    queue: string,
    options: object,
    cb: (error: unknown, msg: ConsumeMessage | false) => void,
  ): void;
  ack(msg: ConsumeMessage): void;
}
interface CallbackApi {
  connect(url: string, cb: (error: unknown, connection: CallbackConnection) => void): void;
}
interface CallbackConnection {
  createChannel(cb: (error: unknown, channel: CallbackChannel) => void): void;
  close(cb?: () => void): void;
}

const promiseApis: Array<[string, PromiseApi]> = [
  ['amqplib 1.x', requireFromAdapter('amqplib-v1')],
  ['amqplib 2.x', requireFromAdapter('amqplib-v2')],
];

describe.skipIf(!url)('@baton/amqplib across amqplib versions and APIs', () => {
  let telemetry: TestTelemetry;
  beforeEach(() => {
    telemetry = createTestTelemetry();
  });
  afterEach(() => telemetry.shutdown());
  const options = () => ({
    ...telemetry.providers,
  });
  const spansOf = (kind: SpanKind) => telemetry.spans().filter((s) => s.kind === kind);

  it.each(promiseApis)(
    'links publish, process and ack with %s on a confirm channel',
    async (_, api) => {
      const connection = await api.connect(url as string);
      try {
        const channel = traceChannel(await connection.createConfirmChannel(), options());
        const queue = uniqueName('baton-version');
        await channel.assertQueue(queue, { arguments: { 'x-expires': 60_000 } });
        const bodies: string[] = [];
        await channel.consume(queue, (msg) => {
          if (!msg) return;
          bodies.push(msg.content.toString());
          channel.ack(msg);
        });
        const acked = new Promise((resolve, reject) =>
          channel.sendToQueue(queue, Buffer.from('versioned'), {}, (error) =>
            error ? reject(error) : resolve(undefined),
          ),
        );
        await acked;
        await waitFor(() =>
          spansOf(SpanKind.CONSUMER).some((s) => s.events.some((e) => e.name === 'ack')),
        );
        const [send] = spansOf(SpanKind.PRODUCER);
        const [process] = spansOf(SpanKind.CONSUMER);
        expect(bodies).toEqual(['versioned']);
        expect(send?.status.code).toBe(SpanStatusCode.UNSET);
        expect(process?.parentSpanContext?.spanId).toBe(send?.spanContext().spanId);
        await channel.deleteQueue(queue);
      } finally {
        await connection.close();
      }
    },
  );

  it('links publish, process and get with the callback API of amqplib 0.10', async () => {
    const api = requireFromAdapter('amqplib/callback_api') as CallbackApi;
    const connection = await new Promise<CallbackConnection>((resolve, reject) =>
      api.connect(url as string, (error, conn) => (error ? reject(error) : resolve(conn))),
    );
    try {
      const raw = await new Promise<CallbackChannel>((resolve, reject) =>
        connection.createChannel((error, ch) => (error ? reject(error) : resolve(ch))),
      );
      const channel = traceChannel(raw, options());
      const queue = uniqueName('baton-callback');
      await new Promise((resolve, reject) =>
        channel.assertQueue(queue, { arguments: { 'x-expires': 60_000 } }, (error) =>
          error ? reject(error) : resolve(undefined),
        ),
      );
      const consumed = new Promise<void>((resolve) => {
        channel.consume(
          queue,
          (msg) => {
            if (!msg) return;
            channel.ack(msg);
            resolve();
          },
          {},
          () => channel.sendToQueue(queue, Buffer.from('by callback')),
        );
      });
      await consumed;
      await waitFor(() => spansOf(SpanKind.CONSUMER).length === 1);
      const [send] = spansOf(SpanKind.PRODUCER);
      expect(spansOf(SpanKind.CONSUMER)[0]?.parentSpanContext?.spanId).toBe(
        send?.spanContext().spanId,
      );

      const pullQueue = uniqueName('baton-callback-get');
      await new Promise((resolve, reject) =>
        channel.assertQueue(pullQueue, { arguments: { 'x-expires': 60_000 } }, (error) =>
          error ? reject(error) : resolve(undefined),
        ),
      );
      channel.sendToQueue(pullQueue, Buffer.from('pulled'));
      const pull = () =>
        new Promise<ConsumeMessage | false>((resolve, reject) =>
          channel.get(pullQueue, { noAck: true }, (error, msg) =>
            error ? reject(error) : resolve(msg),
          ),
        );
      const pulled = (await waitFor(pull)) as ConsumeMessage;
      expect(pulled.content.toString()).toBe('pulled');
      const receive = telemetry
        .spans()
        .find((s) => s.name === `receive ${pullQueue}` && s.links.length > 0);
      expect(receive?.links[0]?.context.spanId).toBe(
        spansOf(SpanKind.PRODUCER)[1]?.spanContext().spanId,
      );
    } finally {
      await new Promise<void>((resolve) => connection.close(() => resolve()));
    }
  });
});
