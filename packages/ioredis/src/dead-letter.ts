import { errorType, type MessagingTelemetry } from '@baton/core';
import type { Redis } from 'ioredis';
import { fieldsToRecord, xaddArguments } from './carrier.js';
import { type ParsedEntry, type StaticDescription, SYSTEM } from './describe.js';

/**
 * The fields Baton adds to an entry it moves to the dead-letter stream, beside the
 * entry's own payload and context fields (kept as they were, so the dead entry still
 * points at its producer's trace).
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

function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `${errorType(error)}: ${message}`.slice(0, MAX_ERROR_LENGTH);
}

/** Where dead entries go and who moves them. */
export interface DeadLetterTarget {
  telemetry: MessagingTelemetry;
  client: Redis;
  stream: string;
  group: string;
  deadLetterStream: string;
  server: StaticDescription;
}

/**
 * Moves one entry to the dead-letter stream and acknowledges it on its own stream, in one
 * script, so that it is never acknowledged without being moved. Traced as `send <dead-letter>`
 * in the caller's context; the entry's own context fields are kept.
 */
export async function moveToDeadLetter(
  target: DeadLetterTarget,
  parsed: ParsedEntry,
  reason: DeadLetterReason,
  error?: unknown,
): Promise<void> {
  const { entry } = parsed;
  const fields: Record<string, string> = {
    ...fieldsToRecord(parsed.raw),
    [DEAD_LETTER_FIELDS.reason]: reason,
    [DEAD_LETTER_FIELDS.stream]: target.stream,
    [DEAD_LETTER_FIELDS.id]: entry.id,
    [DEAD_LETTER_FIELDS.group]: target.group,
    [DEAD_LETTER_FIELDS.deliveries]: String(entry.deliveryCount),
  };
  if (error !== undefined) fields[DEAD_LETTER_FIELDS.error] = describeError(error);
  await target.telemetry.publish(
    {
      system: SYSTEM,
      destination: target.deadLetterStream,
      headers: fields,
      preserveExistingContext: true,
      serverAddress: target.server.serverAddress,
      serverPort: target.server.serverPort,
    },
    async (entryFields) => {
      const fieldArgs = xaddArguments(entryFields, undefined).slice(1); // without the id '*'
      await target.client.eval(
        MOVE_SCRIPT,
        2,
        target.deadLetterStream,
        target.stream,
        target.group,
        entry.id,
        ...fieldArgs,
      );
    },
  );
}
