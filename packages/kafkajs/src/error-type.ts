import { errorType } from '@baton/core';

// kafkajs's protocol errors carry the broker's error code as a stable upper-case `type`
// (src/protocol/error.js): a low-cardinality, documented set, more useful than the class.
const ERROR_TYPE = /^[A-Z][A-Z0-9_]*$/;

function protocolType(error: Error): string | undefined {
  const { type, code } = error as { type?: unknown; code?: unknown };
  if (typeof type !== 'string' || typeof code !== 'number') return undefined;
  return ERROR_TYPE.test(type) ? type : undefined;
}

/**
 * `error.type` for kafkajs's own errors: a protocol error's `type` (e.g.
 * `UNKNOWN_TOPIC_OR_PARTITION`, `REBALANCE_IN_PROGRESS`). kafkajs wraps a retriable error
 * that outlived its retries in `KafkaJSNumberOfRetriesExceeded`; that one reports its
 * cause (the protocol type, else the cause's class name). `undefined` for anything else,
 * which core then reports by class name (`KafkaJSConnectionError`, `TypeError`, ...).
 */
export function kafkaErrorType(error: unknown): string | undefined {
  if (!(error instanceof Error) || !error.name.startsWith('KafkaJS')) return undefined;
  if (error.name === 'KafkaJSNumberOfRetriesExceeded' && error.cause instanceof Error) {
    const cause = error.cause;
    return (cause.name.startsWith('KafkaJS') && protocolType(cause)) || errorType(cause);
  }
  return protocolType(error);
}
