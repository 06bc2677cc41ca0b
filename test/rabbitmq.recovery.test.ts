import { EventEmitter } from 'node:events';
import { type AmqplibErrorInfo, traceChannel } from '@baton/amqplib';
import { waitFor } from '@baton/testing';
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { brokerOrSkip, uniqueName } from './brokers.js';
import { declareQueue, readyCount } from './rabbitmq-harness.js';

const url = await brokerOrSkip('rabbitmq');

type OnMessage = (msg: ConsumeMessage | null) => void;

/**
 * What reconnecting wrappers (amqp-connection-manager's ChannelWrapper and the like) do:
 * one object, a new amqplib channel behind it after a failure, consumers re-established.
 * Delivery tags start again at 1 on the new channel, and the object emits no 'close'.
 */
class RecoveringChannel extends EventEmitter {
  current!: Channel;
  readonly failures: Error[] = [];
  private readonly consumers: Array<{ queue: string; onMessage: OnMessage }> = [];

  constructor(
    private readonly connection: ChannelModel,
    private readonly prefetchCount: number,
  ) {
    super();
  }

  async open(): Promise<void> {
    const channel = await this.connection.createChannel();
    channel.on('error', (error: Error) => this.failures.push(error));
    await channel.prefetch(this.prefetchCount);
    this.current = channel;
    for (const { queue, onMessage } of this.consumers) await channel.consume(queue, onMessage);
  }

  publish(...args: Parameters<Channel['publish']>) {
    return this.current.publish(...args);
  }
  async consume(queue: string, onMessage: OnMessage) {
    this.consumers.push({ queue, onMessage });
    return this.current.consume(queue, onMessage);
  }
  get(queue: string) {
    return this.current.get(queue);
  }
  cancel(tag: string) {
    return this.current.cancel(tag);
  }
  ack(message: ConsumeMessage, allUpTo?: boolean) {
    this.current.ack(message, allUpTo);
  }
  nack(message: ConsumeMessage, allUpTo?: boolean, requeue?: boolean) {
    this.current.nack(message, allUpTo, requeue);
  }
  reject(message: ConsumeMessage, requeue?: boolean) {
    this.current.reject(message, requeue);
  }
  ackAll() {
    this.current.ackAll();
  }
  nackAll(requeue?: boolean) {
    this.current.nackAll(requeue);
  }
}

describe.skipIf(!url)('@baton/amqplib behind a reconnecting channel wrapper', () => {
  let connection: ChannelModel;
  beforeEach(async () => {
    connection = await amqp.connect(url as string);
  });
  afterEach(async () => {
    await connection.close().catch(() => {});
  });

  it('never acks a delivery of a dead channel on its successor, where the same tag names another message', async () => {
    const setup = await connection.createConfirmChannel();
    const queue = await declareQueue(setup);
    const sent = Array.from({ length: 20 }, (_, i) => `m-${i}`);
    for (const body of sent) setup.sendToQueue(queue, Buffer.from(body));
    await setup.waitForConfirms();

    const recovering = new RecoveringChannel(connection, 5);
    await recovering.open();
    const reports: Array<{ error: unknown; info: AmqplibErrorInfo }> = [];
    const channel = traceChannel(recovering, {
      ackMode: 'auto',
      onError: (error, info) => reports.push({ error, info }),
    });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const started: string[] = [];
    const succeeded: Array<{ body: string; redelivered: boolean }> = [];
    let failedOnce = false;
    await channel.consume(queue, async (msg) => {
      if (!msg) return;
      const body = msg.content.toString();
      started.push(body);
      await gate; // the first channel's five handlers, and the second's, run on together
      if (body === 'm-0' && msg.fields.redelivered && !failedOnce) {
        failedOnce = true;
        throw new Error('fails on the new channel');
      }
      succeeded.push({ body, redelivered: msg.fields.redelivered });
    });
    await waitFor(() => started.length === 5, { message: 'five in flight on the first channel' });
    // The first channel dies (a 404 closes it); its five deliveries go back to the queue.
    await recovering.current.checkQueue(uniqueName('baton-missing')).catch(() => {});
    await recovering.open();
    await waitFor(() => started.length === 10, { message: 'the five again, on the new channel' });
    release();

    await waitFor(() => new Set(succeeded.map((s) => s.body)).size === sent.length, {
      message: 'every message handled',
    });
    expect(recovering.failures.map((e) => e.message)).toEqual([
      expect.stringContaining('NOT_FOUND'),
    ]);
    // The old channel's five handlers finished; their acks were not sent anywhere.
    const stale = reports.filter((r) => r.info.operationName === 'ack');
    expect(stale.map((r) => (r.error as Error).name)).toEqual(Array(5).fill('ChannelClosedError'));
    expect(
      reports.filter((r) => r.info.operation === 'process').map((r) => r.info.requeue),
    ).toEqual([true]);
    // m-0 failed on the new channel, was requeued (not acked by a stale ack), then handled.
    await waitFor(() => succeeded.some((s) => s.body === 'm-0' && s.redelivered), {
      message: 'm-0 handled after its failure',
    });
    // Everything was acked on the new channel: nothing comes back when it closes.
    await recovering.current.close();
    expect(await readyCount(connection, queue)).toBe(0);
  });
});
