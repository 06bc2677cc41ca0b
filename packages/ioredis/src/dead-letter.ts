import {
  type MessagingTelemetry,
  parseTraceParent,
  readFirstValidHeader,
  TRACE_PARENT_HEADER,
} from '@baton/core';
import type { Redis } from 'ioredis';
import { CONTEXT_FIELDS } from './carrier.js';
import { type ParsedEntry, type StaticDescription, SYSTEM } from './describe.js';
import type { StopSignal } from './stop-signal.js';

/**
 * The fields Baton adds to an entry it moves to the dead-letter stream, after the entry's
 * own fields (kept byte for byte, so the dead entry still points at its producer's trace).
 */
export const DEAD_LETTER_FIELDS = Object.freeze({
  /** `handler-failed` (the last allowed delivery failed) or `max-deliveries` (claimed once too often). */
  reason: 'x-dead-letter-reason',
  /** The last handler error, `<type>: <message>` (at most 1024 characters). */
  error: 'x-dead-letter-error',
  /** The stream the entry came from. */
  stream: 'x-dead-letter-stream',
  /** The entry's id in that stream. */
  id: 'x-dead-letter-id',
  /** The consumer group that gave up on it. */
  group: 'x-dead-letter-group',
  /** How many times it was delivered. */
  deliveries: 'x-dead-letter-deliveries',
});

/** Why an entry was dead-lettered. */
export type DeadLetterReason = 'handler-failed' | 'max-deliveries';

const MAX_ERROR_LENGTH = 1024;

// XADD then XACK in one script: Redis runs it atomically, and a failing XADD aborts the
// script before the XACK (a MULTI would still run the XACK and lose the entry).
const MOVE_SCRIPT = `local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 3))
redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
return id`;

function describeError(telemetry: MessagingTelemetry, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `${telemetry.errorType(error)}: ${message}`.slice(0, MAX_ERROR_LENGTH);
}

const hasCreationContext = (carrier: ParsedEntry['carrier']) =>
  readFirstValidHeader(
    carrier,
    TRACE_PARENT_HEADER,
    (value) => parseTraceParent(value) !== null,
  ) !== undefined;

/** Where dead entries go and who moves them. */
export interface DeadLetterTarget {
  telemetry: MessagingTelemetry;
  client: Redis;
  stream: string;
  group: string;
  deadLetterStream: string;
  server: StaticDescription;
  /** Lets stop() give up waiting while Redis is down. */
  signal: StopSignal;
}

/**
 * Moves one entry to the dead-letter stream and acknowledges it on its own stream, in one
 * script, so that it is never acknowledged without being moved. The dead entry starts with
 * the original entry's fields, byte for byte and in order (repeated names and context
 * fields included), then come the `x-dead-letter-*` fields. Traced in the caller's context
 * as `send <dead-letter>`: a CLIENT span linked to the entry's creation context (the entry
 * keeps its own context: `sendRole: 'transport'`); for an entry that carries no valid
 * `traceparent`, a PRODUCER span whose context fields go after the entry's own (so that a
 * reader of the dead-letter stream still joins a trace), before the `x-dead-letter-*` ones.
 */
export async function moveToDeadLetter(
  target: DeadLetterTarget,
  parsed: ParsedEntry,
  reason: DeadLetterReason,
  error?: unknown,
): Promise<void> {
  const { entry } = parsed;
  const extra: Record<string, string> = {
    [DEAD_LETTER_FIELDS.reason]: reason,
    [DEAD_LETTER_FIELDS.stream]: target.stream,
    [DEAD_LETTER_FIELDS.id]: entry.id,
    [DEAD_LETTER_FIELDS.group]: target.group,
    [DEAD_LETTER_FIELDS.deliveries]: String(entry.deliveryCount),
  };
  if (error !== undefined) extra[DEAD_LETTER_FIELDS.error] = describeError(target.telemetry, error);
  const transport = hasCreationContext(parsed.carrier);
  await target.telemetry.publish(
    {
      system: SYSTEM,
      destination: target.deadLetterStream,
      headers: parsed.carrier,
      message: entry,
      sendRole: transport ? 'transport' : 'create',
      ...target.server,
    },
    async (injected) => {
      const fieldArgs: Array<string | Buffer> = parsed.raw ? [...parsed.raw] : [];
      for (const name of transport ? [] : CONTEXT_FIELDS) {
        const value = injected[name];
        // The entry's traceparent, if any, is not valid: a reader takes the first valid one.
        const missing = parsed.carrier[name] === undefined || name === TRACE_PARENT_HEADER;
        if (typeof value === 'string' && missing) fieldArgs.push(name, value);
      }
      for (const [name, value] of Object.entries(extra)) fieldArgs.push(name, value);
      await target.signal.race(
        target.client.eval(
          MOVE_SCRIPT,
          2,
          target.deadLetterStream,
          target.stream,
          target.group,
          entry.id,
          ...fieldArgs,
        ),
      );
    },
  );
}
