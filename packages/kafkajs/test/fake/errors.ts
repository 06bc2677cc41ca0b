import { KafkaJSProtocolError } from 'kafkajs';

/** kafkajs's own protocol error for a broker error code, as its response parsers throw it. */
export function protocolError(
  type: string,
  code: number,
  retriable: boolean,
  message = `broker error ${type}`,
): KafkaJSProtocolError {
  // kafkajs's typings declare the constructor with `Error | string`; at run time it takes
  // the protocol error description, as src/protocol/error.js builds it.
  return new KafkaJSProtocolError({ type, code, retriable, message } as unknown as Error);
}

export const rebalanceInProgress = () =>
  protocolError(
    'REBALANCE_IN_PROGRESS',
    27,
    false,
    'The group is rebalancing, so a rejoin is needed',
  );
