import { healthOf, traceConsumer } from '@baton/amqplib';
import { checkReadiness } from '@baton/core';
import { waitFor } from '@baton/testing';
import amqp, { type ChannelModel } from 'amqplib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { brokerOrSkip } from './brokers.js';
import { closeFromBroker, connectNamed, declareQueue } from './rabbitmq-harness.js';

const url = await brokerOrSkip('rabbitmq');

describe.skipIf(!url)('healthOf against RabbitMQ', () => {
  let admin: ChannelModel;
  const opened: ChannelModel[] = [];

  beforeEach(async () => {
    admin = await amqp.connect(url as string);
  });
  afterEach(async () => {
    for (const connection of opened.splice(0)) await connection.close().catch(() => {});
    await admin.close().catch(() => {});
  });

  const send = async (queue: string, count: number) => {
    const channel = await admin.createConfirmChannel();
    for (let i = 0; i < count; i++) channel.sendToQueue(queue, Buffer.from(`m-${i}`));
    await channel.waitForConfirms();
    await channel.close();
  };

  it('turns not ready with the reason when the broker closes the connection, and ready again on a new channel', async () => {
    const { connection, name } = await connectNamed(url as string, 'baton-health');
    opened.push(connection);
    const closed = new Promise<unknown>((resolve) => connection.once('close', resolve));
    const channel = traceConsumer(await connection.createChannel());
    const queue = await declareQueue(channel);
    let handled = 0;
    await channel.consume(queue, (msg) => {
      if (!msg) return;
      handled++;
      channel.ack(msg);
    });
    await send(queue, 1);
    await waitFor(() => handled === 1, { message: 'the first delivery' });
    const [before] = healthOf(channel);
    expect(before).toMatchObject({ destination: queue, running: true, connected: true });
    expect(before?.lastPollAtMs).toBeTypeOf('number');
    expect(checkReadiness(healthOf(channel))).toMatchObject({ ready: true, reasons: [] });

    await closeFromBroker(name, 'baton health test');
    await closed;
    const down = checkReadiness(healthOf(channel));
    expect(down.ready).toBe(false);
    expect(down.reasons).toEqual([
      `rabbitmq ${queue}: consumer not running`,
      expect.stringMatching(
        new RegExp(`^rabbitmq ${queue}: last error: .*CONNECTION_FORCED - baton health test`),
      ),
    ]);
    expect(healthOf(channel)[0]).toMatchObject({ running: false, connected: false });

    // The application reconnects, re-creates its channel and consumes again: ready.
    const again = await amqp.connect(url as string);
    opened.push(again);
    const next = traceConsumer(await again.createChannel());
    await next.consume(queue, (msg) => {
      if (!msg) return;
      handled++;
      next.ack(msg);
    });
    expect(checkReadiness(healthOf(next))).toMatchObject({ ready: true, reasons: [] });
    await send(queue, 1);
    await waitFor(() => handled === 2, { message: 'a delivery on the new channel' });
    expect(healthOf(next)[0]?.lastPollAtMs).toBeGreaterThanOrEqual(before?.lastPollAtMs as number);
  });

  it('turns not ready while the queue depth the lag monitor reads is above maxLag', async () => {
    const connection = await amqp.connect(url as string);
    opened.push(connection);
    const channel = traceConsumer(await connection.createChannel(), {
      lagConnection: connection,
      lagIntervalMs: 20,
    });
    const queue = await declareQueue(channel);
    await channel.prefetch(1);
    // The handler holds its one delivery: the rest waits in the queue.
    const held: Array<() => void> = [];
    await channel.consume(queue, async (msg) => {
      if (!msg) return;
      await new Promise<void>((resolve) => held.push(resolve));
      channel.ack(msg);
    });
    await send(queue, 6);
    await waitFor(() => healthOf(channel)[0]?.lag === 5, { message: 'a depth of 5 read' });
    expect(checkReadiness(healthOf(channel), { maxLag: 2 }).reasons).toEqual([
      `rabbitmq ${queue}: lag 5 above 2`,
    ]);
    // Released, the backlog drains and the next reading is under the bound.
    const release = setInterval(() => held.shift()?.(), 5);
    try {
      await waitFor(() => checkReadiness(healthOf(channel), { maxLag: 2 }).ready, {
        message: 'ready once the backlog is under the bound',
      });
    } finally {
      clearInterval(release);
    }
  });
});
