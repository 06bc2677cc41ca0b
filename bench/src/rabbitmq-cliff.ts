// RabbitMQ's 64-byte cliff, with bare amqplib (no Baton): the broker's CPU per message and
// the throughput as a function of the encoded size of a message's properties, and where
// Baton's headers land. `node dist/rabbitmq-cliff.js [--quick]` against AMQP_URL (or
// 127.0.0.1:5672). Broker CPU is beam.smp's utime + stime from /proc/<pid>/stat, so it
// needs the broker on this host; on a shared broker other clients' work lands in it too
// (the idle rate is printed first, and every case is measured in interleaved rounds).
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import amqp from 'amqplib';
import { median } from './compare.js';

// amqplib's own argument builder and encoder, to report the exact property bytes it writes.
const require = createRequire(import.meta.url);
const Args = require('amqplib/lib/api_args.js') as {
  publish(exchange: string, routingKey: string, options: object): object;
};
const defs = require('amqplib/lib/defs.js') as {
  encodeProperties(id: number, channel: number, size: number, fields: unknown): Buffer;
};

const URL_ = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const quick = process.argv.includes('--quick');
const MESSAGES = quick ? 5000 : 30_000;
const ROUNDS = quick ? 2 : 5;
const PREFETCH = 256;
const BODY = Buffer.from(JSON.stringify({ userId: 'u-123', event: 'user.created' }));
const TICK_US = 1e6 / 100; // USER_HZ: /proc/<pid>/stat counts 1/100 s

type Headers = Record<string, unknown>;

/** Encoded size of the basic properties amqplib writes for `sendToQueue(q, body, { headers })`. */
function propertyBytes(headers: Headers | undefined): number {
  // Method fields and properties come as one object, as amqplib passes them.
  const fieldsAndProperties = Args.publish('', 'q', headers ? { headers } : {});
  const frame = defs.encodeProperties(60, 1, BODY.length, fieldsAndProperties);
  // frame header (7) + class id, weight, body size (12) + properties + frame end (1)
  return frame.length - 20;
}

const traceparent = () =>
  `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;

interface Case {
  name: string;
  headers: () => Headers | undefined;
}

// One header `h` whose value is sized so the properties encode to `bytes`: flags (2) +
// table length (4) + key (1 + 1) + type (1) + value length (4) + value.
const sized = (bytes: number): Case => ({
  name: `one header, properties ${bytes} B`,
  headers: () => ({ h: 'x'.repeat(bytes - 13) }),
});

const CASES: Case[] = [
  { name: 'no headers (bare amqplib)', headers: () => undefined },
  ...[40, 48, 56, 60, 62, 63, 64, 65, 66, 68, 72, 80].map(sized),
  {
    name: 'Baton, no SDK, today: x-correlation-id + timestamp_in_ms',
    headers: () => ({ 'x-correlation-id': randomUUID(), timestamp_in_ms: Date.now() }),
  },
  {
    name: 'Baton, no SDK, no publish-time header: x-correlation-id',
    headers: () => ({ 'x-correlation-id': randomUUID() }),
  },
  {
    name: 'Baton + SDK, today: traceparent + x-correlation-id + timestamp_in_ms',
    headers: () => ({
      traceparent: traceparent(),
      'x-correlation-id': randomUUID(),
      timestamp_in_ms: Date.now(),
    }),
  },
  {
    name: 'Baton + SDK, no publish-time header (= the hand-written reference)',
    headers: () => ({ traceparent: traceparent(), 'x-correlation-id': randomUUID() }),
  },
  {
    name: 'traceparent only (correlation id = trace id, no header)',
    headers: () => ({ traceparent: traceparent() }),
  },
  {
    name: 'traceparent + correlation id in baggage',
    headers: () => ({ traceparent: traceparent(), baggage: `cid=${randomUUID()}` }),
  },
];

/** The RabbitMQ node's beam.smp on this host, if any. */
function brokerPid(): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'beam.smp') continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('rabbit')) return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  return undefined;
}

/** utime + stime of `pid`, µs. */
function cpuOf(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_US; // fields 14 and 15 of stat
}

const pid = brokerPid();
const connection = await amqp.connect(URL_, {
  noDelay: true,
  clientProperties: { connection_name: `baton-bench-cliff-${process.pid}` },
});
const producer = await connection.createChannel();
const consumer = await connection.createChannel();
const queue = `baton-bench-cliff-${process.pid}`;
await consumer.assertQueue(queue, { exclusive: true });
await consumer.prefetch(PREFETCH);
let received = 0;
let target = 0;
let finish: () => void = () => {};
await consumer.consume(queue, (msg) => {
  if (!msg) return;
  consumer.ack(msg);
  if (++received === target) finish();
});

async function run(c: Case, n: number) {
  received = 0;
  target = n;
  const all = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const brokerStart = cpuOf(pid);
  const clientStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const headers = c.headers();
    const written = producer.sendToQueue(queue, BODY, headers ? { headers } : {});
    if (!written) await new Promise((r) => producer.once('drain', r));
  }
  await all;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const client = process.cpuUsage(clientStart);
  return {
    perSecond: n / seconds,
    brokerUs: (cpuOf(pid) - brokerStart) / n,
    clientUs: (client.user + client.system) / n,
  };
}

const idleStart = cpuOf(pid);
await new Promise((r) => setTimeout(r, 2000));
const idlePercent = ((cpuOf(pid) - idleStart) / 2e6) * 100;
console.log(
  `RabbitMQ property-size sweep, bare amqplib, ${new Date().toISOString()}, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(
  `${ROUNDS} interleaved rounds x ${MESSAGES} messages per case (medians); sendToQueue -> consume + ack, prefetch ${PREFETCH}, noDelay, ${BODY.length} B body; broker ${pid === undefined ? 'CPU NOT AVAILABLE (no local beam.smp)' : `beam.smp pid ${pid}, idle ${idlePercent.toFixed(1)}% of a core before the run`}`,
);
for (const c of CASES) await run(c, 2000); // warm-up: connections, JIT, broker queue
const samples = new Map(CASES.map((c) => [c, [] as Awaited<ReturnType<typeof run>>[]]));
for (let round = 0; round < ROUNDS; round++) {
  for (const c of CASES) samples.get(c)?.push(await run(c, MESSAGES));
}
console.log(
  `  ${'case'.padEnd(72)} ${'props B'.padStart(7)} ${'msgs/s'.padStart(8)} ${'broker µs/msg'.padStart(13)} ${'client µs/msg'.padStart(13)}`,
);
for (const c of CASES) {
  const s = samples.get(c) ?? [];
  console.log(
    `  ${c.name.padEnd(72)} ${String(propertyBytes(c.headers())).padStart(7)} ${Math.round(
      median(s.map((x) => x.perSecond)),
    )
      .toString()
      .padStart(8)} ${median(s.map((x) => x.brokerUs))
      .toFixed(1)
      .padStart(13)} ${median(s.map((x) => x.clientUs))
      .toFixed(1)
      .padStart(13)}`,
  );
}
await connection.close();
