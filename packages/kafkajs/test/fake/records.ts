// Record shapes of the in-memory Kafka, encoded and decoded the way kafkajs 2.x does it.

export type HeaderInput = Buffer | string | null | (Buffer | string | null)[] | undefined;

export interface StoredRecord {
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  offset: string;
  headers: Array<{ key: string; value: Buffer | null }>;
}

/** A message as a producer hands it to `send` (kafkajs `Message`). */
export interface FakeMessage {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  partition?: number;
  headers?: Record<string, HeaderInput>;
  timestamp?: string;
}

/** A message as the consumer hands it out (kafkajs `KafkaMessage`). */
export interface FakeConsumedMessage {
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  attributes: number;
  offset: string;
  headers: Record<string, Buffer | null | Array<Buffer | null>>;
}

export const toBuffer = (value: Buffer | string | null | undefined): Buffer | null => {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? Buffer.from(value) : value;
};

// kafkajs's record encoder: Object.keys(headers).flatMap(array -> one header per value).
export function encodeHeaders(headers: Record<string, HeaderInput> | undefined) {
  const list: Array<{ key: string; value: Buffer | null }> = [];
  for (const key of Object.keys(headers ?? {})) {
    const value = headers?.[key];
    for (const item of Array.isArray(value) ? value : [value]) {
      // kafkajs computes Buffer.byteLength(value) and throws on undefined header values.
      if (item === undefined) throw new TypeError(`header ${key} has an undefined value`);
      list.push({ key, value: toBuffer(item) });
    }
  }
  return list;
}

// kafkajs's record decoder: a repeated key becomes an array, in order.
export function decodeHeaders(list: StoredRecord['headers']): FakeConsumedMessage['headers'] {
  const headers: FakeConsumedMessage['headers'] = {};
  for (const { key, value } of list) {
    const existing = headers[key];
    if (existing === undefined) headers[key] = value;
    else headers[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return headers;
}

/** A new consumed-message object for a stored record, as each kafkajs fetch decodes one. */
export function consumedMessage(record: StoredRecord): FakeConsumedMessage {
  return {
    key: record.key,
    value: record.value,
    timestamp: record.timestamp,
    attributes: 0,
    offset: record.offset,
    headers: decodeHeaders(record.headers),
  };
}
