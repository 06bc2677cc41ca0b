import {
  type Baggage,
  type BaggageEntry,
  baggageEntryMetadataFromString,
} from '@opentelemetry/api';

/** The W3C Baggage header. */
export const BAGGAGE_HEADER = 'baggage';

/**
 * W3C Baggage limits: at most 180 list members (Baton, like OpenTelemetry, applies the
 * spec's former limit), 4096 bytes per member and 8192 bytes in all. Past them, members
 * are dropped whole, never cut, so no value ever arrives truncated.
 * @see https://www.w3.org/TR/baggage/#limits
 */
export const MAX_BAGGAGE_MEMBERS = 180;
export const MAX_BAGGAGE_MEMBER_LENGTH = 4096;
export const MAX_BAGGAGE_LENGTH = 8192;

function decode(text: string): string | undefined {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined; // a malformed escape: the member is dropped, not the whole header
  }
}

// A baggage key is a token (RFC 7230): visible ASCII except separators. Keys are
// percent-decoded after that check, as OpenTelemetry encodes them, for interop.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Parses a `baggage` header value into entries. Malformed members are skipped one by one;
 * what is past the limits is ignored. Reads at most {@link MAX_BAGGAGE_LENGTH} characters
 * of members, so a huge header costs no more than a full one.
 */
export function parseBaggage(header: string): Record<string, BaggageEntry> | undefined {
  let entries: Record<string, BaggageEntry> | undefined;
  let count = 0;
  let consumed = 0;
  let start = 0;
  while (start <= header.length && count < MAX_BAGGAGE_MEMBERS) {
    let end = header.indexOf(',', start);
    if (end < 0) end = header.length;
    const memberLength = end - start;
    consumed += memberLength + 1;
    if (consumed > MAX_BAGGAGE_LENGTH + 1) break;
    if (memberLength > 0 && memberLength <= MAX_BAGGAGE_MEMBER_LENGTH) {
      const member = header.slice(start, end);
      const semicolon = member.indexOf(';');
      const pair = semicolon < 0 ? member : member.slice(0, semicolon);
      const equals = pair.indexOf('=');
      if (equals > 0) {
        const rawKey = pair.slice(0, equals).trim();
        const key = TOKEN.test(rawKey) ? decode(rawKey) : undefined;
        const value = decode(pair.slice(equals + 1).trim());
        if (key !== undefined && value !== undefined) {
          entries ??= Object.create(null) as Record<string, BaggageEntry>;
          const entry: BaggageEntry = { value };
          if (semicolon >= 0) {
            entry.metadata = baggageEntryMetadataFromString(member.slice(semicolon + 1));
          }
          entries[key] = entry;
          count++;
        }
      }
    }
    start = end + 1;
  }
  return entries;
}

// Percent-encodes what a baggage value may not hold (RFC 3986 unreserved stays as is).
function encode(text: string): string {
  return encodeURIComponent(text);
}

/**
 * Serializes baggage as a `baggage` header value within the W3C limits: members that do
 * not fit are left out whole. Returns `undefined` when nothing is left.
 */
export function serializeBaggage(baggage: Baggage): string | undefined {
  let header = '';
  let count = 0;
  for (const [key, entry] of baggage.getAllEntries()) {
    if (count >= MAX_BAGGAGE_MEMBERS) break;
    const encodedKey = encode(key);
    if (!TOKEN.test(encodedKey)) continue;
    let member = `${encodedKey}=${encode(entry.value)}`;
    const metadata = entry.metadata?.toString();
    if (metadata) member += `;${metadata}`;
    if (member.length > MAX_BAGGAGE_MEMBER_LENGTH) continue;
    const next = header.length === 0 ? member : `${header},${member}`;
    if (next.length > MAX_BAGGAGE_LENGTH) continue;
    header = next;
    count++;
  }
  return header.length > 0 ? header : undefined;
}
