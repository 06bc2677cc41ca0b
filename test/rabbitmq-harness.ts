import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { uniqueName } from './brokers.js';

const run = promisify(execFile);

/** Queue arguments every test queue gets: it vanishes a minute after its last use. */
export const EXPIRES = { 'x-expires': 60_000 };

/** A connection named for `rabbitmqctl`, with the name kept for {@link closeFromBroker}. */
export interface NamedConnection {
  connection: ChannelModel;
  name: string;
}

/** Opens a connection whose `connection_name` is unique, so a test can find it on the broker. */
export async function connectNamed(url: string, prefix = 'baton-test'): Promise<NamedConnection> {
  const name = uniqueName(prefix);
  const connection = await amqp.connect(url, { clientProperties: { connection_name: name } });
  return { connection, name };
}

/**
 * Makes the broker close THIS test's connection (`rabbitmqctl close_connection`), found by
 * its unique `connection_name`: never anyone else's on the shared broker.
 */
export async function closeFromBroker(name: string, reason = 'test'): Promise<void> {
  const { stdout } = await run('rabbitmqctl', [
    'list_connections',
    'pid',
    'client_properties',
    '--quiet',
    '--no-table-headers',
  ]);
  const line = stdout.split('\n').find((l) => l.includes(`{"connection_name","${name}"}`));
  const pid = line?.split('\t')[0];
  if (!pid?.startsWith('<')) throw new Error(`connection ${name} is not on the broker`);
  await run('rabbitmqctl', ['close_connection', pid, reason]);
}

/** Declares a uniquely named queue (classic unless `args` say otherwise). */
export async function declareQueue(
  channel: Channel,
  args: Record<string, unknown> = {},
  prefix = 'baton-q',
): Promise<string> {
  const name = uniqueName(prefix);
  const quorum = args['x-queue-type'] === 'quorum';
  await channel.assertQueue(name, { durable: quorum, arguments: { ...EXPIRES, ...args } });
  return name;
}

/** Takes every message left in `queue` (acked), as body strings, on a fresh channel. */
export async function drainQueue(connection: ChannelModel, queue: string): Promise<string[]> {
  const channel = await connection.createChannel();
  const bodies: string[] = [];
  for (;;) {
    const msg = await channel.get(queue, { noAck: true });
    if (!msg) break;
    bodies.push(msg.content.toString());
  }
  await channel.close();
  return bodies;
}

/** The ready message count of `queue`, read on a fresh channel (a 404 closes only that one). */
export async function readyCount(connection: ChannelModel, queue: string): Promise<number> {
  const channel = await connection.createChannel();
  const { messageCount } = await channel.checkQueue(queue);
  await channel.close();
  return messageCount;
}
