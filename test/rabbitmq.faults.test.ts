import { once } from 'node:events';
import { type AmqplibErrorInfo, type AmqplibOptions, traceChannel } from '@baton/amqplib';
import { createTestTelemetry, type TestTelemetry, waitFor } from '@baton/testing';
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { brokerOrSkip } from './brokers.js';
import {
  closeFromBroker,
  connectNamed,
  declareQueue,
  drainQueue,
  readyCount,
} from './rabbitmq-harness.js';

const url = await brokerOrSkip('rabbitmq');
const PREFETCH = 20;

/** What a consumer saw: successful handler runs, and the settles Baton could not send. */
interface Ledger {
  handled: Array<{ body: string; redelivered: boolean }>;
  reports: Array<{ error: unknown; info: AmqplibErrorInfo }>;
}

describe.skipIf(!url)('@baton/amqplib when RabbitMQ breaks the connection or the channel', () => {
  let telemetry: TestTelemetry;
  let admin: ChannelModel;
  const opened: ChannelModel[] = [];

  const options = (ledger: Ledger, extra: AmqplibOptions = {}): AmqplibOptions => ({
    ...telemetry.providers,
    ackMode: 'auto',
    onError: (error, info) => ledger.reports.push({ error, info }),
    ...extra,
  });
  // Publishes with confirms on the admin connection, which no fault touches.
  const publish = async (queue: string, bodies: string[]) => {
    const channel = await admin.createConfirmChannel();
    for (const body of bodies) {
      if (!channel.sendToQueue(queue, Buffer.from(body))) await once(channel, 'drain');
    }
    await channel.waitForConfirms();
    await channel.close();
  };
  // Every message sent was handled or is still in the queue. A message is handled twice only
  // when its channel died under it: the second time it comes flagged as redelivered (an ack
  // Baton sent as the broker was closing the channel is lost unseen: AMQP does not confirm
  // acks). A message whose ack Baton reported as not sent came back.
  const expectNothingLost = async (queue: string, sent: string[], ledgers: Ledger[]) => {
    const remaining = await drainQueue(admin, queue);
    const handled = ledgers.flatMap((l) => l.handled);
    const seen = new Set([...handled.map((h) => h.body), ...remaining]);
    expect(sent.filter((body) => !seen.has(body))).toEqual([]);
    for (const ledger of ledgers) {
      const bodies = ledger.handled.map((h) => h.body);
      expect(bodies.length).toBe(new Set(bodies).size);
    }
    const firstSeen = new Set<string>();
    const unexplained: string[] = [];
    for (const { body, redelivered } of handled) {
      if (firstSeen.has(body) && !redelivered) unexplained.push(body);
      firstSeen.add(body);
    }
    expect(unexplained).toEqual([]);
    const later = new Set([
      ...ledgers.slice(1).flatMap((l) => l.handled.map((h) => h.body)),
      ...remaining,
    ]);
    const notBack = ledgers[0]?.reports
      .filter((r) => r.info.operationName === 'ack')
      .map((r) => r.info.message.content.toString())
      .filter((body) => !later.has(body));
    expect(notBack).toEqual([]);
    return { remaining };
  };
  // m-100 was in its handler at the fault; handlers of deliveries that came in the same
  // socket read as the close may finish after it too. Each of those acks is reported.
  const reportedAcks = (ledger: Ledger) =>
    ledger.reports.map((r) => [
      `${r.info.operation} ${r.info.operationName}`,
      (r.error as Error).name,
      r.info.message.content.toString() === 'm-100',
    ]);
  const onlyFailedAcks = (ledger: Ledger) =>
    reportedAcks(ledger).filter(
      ([op, name]) => op !== 'settle ack' || name !== 'ChannelClosedError',
    );
  const heldAckReported = (ledger: Ledger) =>
    ledger.reports.some((r) => r.info.message.content.toString() === 'm-100');
  const handledBodies = (...ledgers: Ledger[]) =>
    new Set(ledgers.flatMap((l) => l.handled.map((h) => h.body)));
  const consumeInto = async (
    channel: Channel,
    queue: string,
    ledger: Ledger,
    hold: (body: string) => boolean = () => false,
  ) => {
    await channel.prefetch(PREFETCH);
    await channel.consume(queue, async (msg: ConsumeMessage | null) => {
      if (!msg) return;
      const body = msg.content.toString();
      if (hold(body)) {
        held++;
        await holdGate;
      }
      await Promise.resolve();
      ledger.handled.push({ body, redelivered: msg.fields.redelivered });
    });
  };
  let openGate: () => void = () => {};
  let holdGate: Promise<void>;
  let held = 0;

  beforeEach(async () => {
    telemetry = createTestTelemetry();
    admin = await amqp.connect(url as string);
    held = 0;
    holdGate = new Promise((resolve) => {
      openGate = resolve;
    });
  });
  afterEach(async () => {
    openGate();
    for (const connection of opened.splice(0)) await connection.close().catch(() => {});
    await admin.close().catch(() => {});
    await telemetry.shutdown();
  });

  it('fails with one clear error when the broker closes the connection, loses nothing, and resumes on a new connection', async () => {
    const setup = await admin.createChannel();
    const queue = await declareQueue(setup);
    const sent = Array.from({ length: 1000 }, (_, i) => `m-${i}`);
    await publish(queue, sent);

    const { connection, name } = await connectNamed(url as string, 'baton-fault');
    // A broker-forced close is not 'error' for amqplib: the reason comes with 'close'.
    const errors: Error[] = [];
    connection.on('error', (error: Error) => errors.push(error));
    const closed = new Promise<Error | undefined>((resolve) => connection.once('close', resolve));
    const first: Ledger = { handled: [], reports: [] };
    const channel = traceChannel(await connection.createChannel(), options(first));
    // m-100 is in its handler when the connection goes: its ack cannot be sent.
    await consumeInto(channel, queue, first, (body) => body === 'm-100');
    await waitFor(() => held === 1 && first.handled.length >= 100, {
      message: 'm-100 in its handler, 100 handled before it',
    });
    await closeFromBroker(name, 'baton fault test');
    const reason = await closed;
    openGate();
    await waitFor(() => heldAckReported(first), { message: 'the unsendable ack reported' });

    expect(reason?.message).toContain('CONNECTION_FORCED - baton fault test');
    expect(errors).toEqual([]);
    expect(reportedAcks(first)).toContainEqual(['settle ack', 'ChannelClosedError', true]);
    expect(onlyFailedAcks(first)).toEqual([]);
    // close() on the dead channel settles at once with amqplib's own error: no hang.
    await expect(channel.close()).rejects.toThrow('Channel closed');

    // The application reconnects and consumes again: the rest arrives.
    const again = await amqp.connect(url as string);
    opened.push(again);
    const second: Ledger = { handled: [], reports: [] };
    await consumeInto(traceChannel(await again.createChannel(), options(second)), queue, second);
    await waitFor(() => handledBodies(first, second).size === sent.length, {
      message: 'every message handled after the reconnect',
    });
    const { remaining } = await expectNothingLost(queue, sent, [first, second]);
    expect(remaining).toEqual([]);
    expect(second.reports).toEqual([]);
  });

  it('fails with one clear error on a channel error, loses nothing, and resumes on a new channel', async () => {
    const { connection } = await connectNamed(url as string, 'baton-fault');
    opened.push(connection);
    const connectionErrors: Error[] = [];
    connection.on('error', (error: Error) => connectionErrors.push(error));
    const first: Ledger = { handled: [], reports: [] };
    const channel = traceChannel(await connection.createChannel(), options(first));
    const queue = await declareQueue(channel);
    const sent = Array.from({ length: 1000 }, (_, i) => `m-${i}`);
    await publish(queue, sent);
    const errors: Error[] = [];
    channel.on('error', (error: Error) => errors.push(error));
    // From m-100 on, every handler is held: once PREFETCH of them are in their handlers, the
    // broker has no delivery left to send on this channel when it closes it. (With deliveries
    // in flight, RabbitMQ can still send one after its channel.close, and amqplib then closes
    // the whole connection: 'Frame on unknown channel'. That is the broker's and amqplib's
    // behaviour, not Baton's; an application must handle a lost connection anyway.)
    await consumeInto(channel, queue, first, (body) => Number(body.slice(2)) >= 100);
    await waitFor(() => held === PREFETCH && first.handled.length === 100, {
      message: `m-100 to m-${99 + PREFETCH} in their handlers, the 100 before them handled`,
    });
    // (Not events.once: it rejects on the 'error' that comes first.)
    const closed = new Promise((resolve) => channel.once('close', resolve));
    // A publish to an exchange that does not exist: the broker closes the channel (404).
    channel.publish('baton-no-such-exchange', 'x', Buffer.from('nowhere'));
    await closed;
    openGate();
    await waitFor(() => first.reports.length === PREFETCH, {
      message: "the held handlers' acks reported as not sent",
    });
    expect(errors.map((e) => (e as { code?: number }).code)).toEqual([404]);
    expect(errors[0]?.message).toContain('NOT_FOUND');
    expect(reportedAcks(first)).toContainEqual(['settle ack', 'ChannelClosedError', true]);
    expect(onlyFailedAcks(first)).toEqual([]);
    await expect(channel.close()).rejects.toThrow('Channel closed');

    // The connection lives on: consuming resumes on a new channel, and the held ones come back.
    const second: Ledger = { handled: [], reports: [] };
    const resumed = traceChannel(await connection.createChannel(), options(second));
    await consumeInto(resumed, queue, second);
    await waitFor(() => handledBodies(first, second).size === sent.length, {
      message: 'every message handled on the new channel',
    });
    const { remaining } = await expectNothingLost(queue, sent, [first, second]);
    expect(remaining).toEqual([]);
    expect(second.handled.filter((h) => h.redelivered)).toHaveLength(PREFETCH);
    expect(connectionErrors).toEqual([]);
    expect(await readyCount(admin, queue)).toBe(0);
  });
});
