import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { traceChannel } from '@baton/amqplib';
import type { MetricPoint, SpanFacts } from '@baton/testing';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';

export const CONTRIB = '@opentelemetry/instrumentation-amqplib';
export const BATON = '@baton/amqplib';

/**
 * Who instruments one side of a message's trip. The test's own process has contrib's
 * instrumentation on: `'contrib'` is a raw channel there, `'both'` and
 * `'both, contrib mode'` a Baton channel there (`coexistence` 'baton' / 'contrib'). `'baton'`
 * is another process, without contrib. `'hidden'` is the test of the test: Baton over a
 * channel whose contrib wrapper it cannot see (behind a plain function), as if Baton had no
 * coexistence code: the count must show the doubling.
 */
export type Side = 'contrib' | 'both' | 'both, contrib mode' | 'baton' | 'hidden';

/** The scope whose spans a side must show (`'hidden'` shows both, and the wire is contrib's). */
export const ownerOf = (side: Side) =>
  side === 'contrib' || side === 'both, contrib mode' ? CONTRIB : BATON;

/** What a consumer saw of one message. */
export interface Seen {
  id: string;
  traceId: string | undefined;
  traceparent: string | undefined;
  correlationId: string | undefined;
  /** Baton's correlation id in the handler (only where Baton consumes). */
  handlerCorrelationId?: string | undefined;
}

/** A channel whose `publish` / `consume` hide contrib's shimmer marks behind a plain function. */
export function hideWrappers<C extends Channel>(channel: C): C {
  return new Proxy(channel, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => (value as (...a: unknown[]) => unknown).apply(target, args);
    },
  });
}

/** The publishing channels of one side in this process: plain and confirm. */
export interface Publisher {
  plain: Channel;
  confirm: ConfirmChannel;
  rawConfirm: ConfirmChannel;
}

export async function publisherOf(connection: ChannelModel, side: Side): Promise<Publisher> {
  const plain = await connection.createChannel();
  const rawConfirm = await connection.createConfirmChannel();
  if (side === 'contrib') return { plain, confirm: rawConfirm, rawConfirm };
  // Baton's producers stamp the publish time (opt-in), for time in queue.
  const publishTimeHeader = true;
  if (side === 'hidden') {
    return {
      plain: traceChannel(hideWrappers(plain), { publishTimeHeader }),
      confirm: traceChannel(hideWrappers(rawConfirm), { publishTimeHeader }),
      rawConfirm,
    };
  }
  const coexistence = side === 'both' ? 'baton' : 'contrib';
  return {
    plain: traceChannel(plain, { coexistence, publishTimeHeader }),
    confirm: traceChannel(rawConfirm, { coexistence, publishTimeHeader }),
    rawConfirm,
  };
}

export async function consumerOf(connection: ChannelModel, side: Side): Promise<Channel> {
  const raw = await connection.createChannel();
  if (side === 'contrib') return raw;
  if (side === 'hidden') return traceChannel(hideWrappers(raw));
  // 'both' settles by hand, 'both, contrib mode' lets Baton ack: both ack paths run.
  return side === 'both'
    ? traceChannel(raw)
    : traceChannel(raw, { coexistence: 'contrib', ackMode: 'auto' });
}

export const bodyOf = (message: ConsumeMessage) => message.content.toString();

/** What the peer process (Baton without contrib) reports. */
export interface PeerReport {
  contribPatched: boolean;
  spans: SpanFacts[];
  metrics: MetricPoint[];
  seen: Seen[];
  published: Array<{ id: string; traceId: string }>;
}

/** The peer plan: queues it consumes (with how many messages) and messages it publishes. */
export interface PeerPlan {
  url: string;
  consume: Array<{ queue: string; n: number }>;
  produce: Array<{ queue: string; ids: string[] }>;
}

const peerScript = fileURLToPath(new URL('./amqp-peer.mjs', import.meta.url));

/** Runs the peer process; resolves with its report when it exits. */
export function runPeer(plan: PeerPlan): Promise<PeerReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [peerScript], {
      env: { ...process.env, COEXIST_PLAN: JSON.stringify(plan) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`the peer process exited with ${code}: ${err}`));
      else resolve(JSON.parse(out) as PeerReport);
    });
  });
}
