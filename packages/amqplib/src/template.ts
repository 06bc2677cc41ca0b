const PLACEHOLDER = /\{[^{}]*\}/g;
// A placeholder stands for one word of a routing key: no `.` (AMQP's word separator) and
// no `:` (the separator of the parts of a destination name).
const WORD = '[^.:]+';

function escapeLiteral(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A `destinationTemplate` for routing keys that hold ids: each pattern is a routing key
 * with `{placeholders}` for the words that vary (`user.{id}.created`). A destination whose
 * routing key part matches a pattern gets the pattern in its place as its template, on the
 * producer side (`users:user.{id}.created`) and the consumer side
 * (`users:user.{id}.created:mailer`); span names and metric attributes use it, and the full
 * name stays on the span. The first matching pattern wins; no match keeps the name.
 *
 * @example
 * traceChannel(channel, { destinationTemplate: routingKeyTemplate('user.{id}.created') });
 */
export function routingKeyTemplate(
  ...patterns: string[]
): (destination: string) => string | undefined {
  const compiled = patterns
    .filter((pattern) => typeof pattern === 'string' && pattern !== '')
    .map((pattern) => {
      const literals = pattern.split(PLACEHOLDER).map(escapeLiteral);
      return { pattern, regex: new RegExp(`(^|:)${literals.join(WORD)}(?=:|$)`) };
    });
  return (destination) => {
    for (const { pattern, regex } of compiled) {
      const match = regex.exec(destination);
      if (match === null) continue;
      const start = match.index + (match[1]?.length ?? 0);
      return (
        destination.slice(0, start) + pattern + destination.slice(match.index + match[0].length)
      );
    }
    return undefined;
  };
}
