import {
  type LagMonitor,
  type LagSample,
  type MessagingTelemetry,
  startLagMonitor,
} from '@baton/core';
import type { Redis } from 'ioredis';
import { SYSTEM } from './describe.js';
import { groupInfos } from './replies.js';

/**
 * Reports `baton.consumer.lag` (entries the group has not read yet) and
 * `baton.consumer.pending` (read, not acknowledged) from `XINFO GROUPS`, read at most once
 * per interval and never on the message path. Redis < 7 has no lag figure: only pending.
 * Each reading's lag also goes to `onLag` (for the consumer's health).
 */
export function startGroupLagMonitor(
  telemetry: MessagingTelemetry,
  client: Pick<Redis, 'xinfo'>,
  stream: string,
  group: string,
  intervalMs: number,
  onLag: (lag: number | undefined) => void,
): LagMonitor {
  return startLagMonitor(telemetry, {
    system: SYSTEM,
    intervalMs,
    read: async () => {
      const info = groupInfos(await client.xinfo('GROUPS', stream)).find((g) => g.name === group);
      onLag(info?.lag);
      const samples: LagSample[] = [];
      if (info?.lag !== undefined) {
        samples.push({ kind: 'lag', destination: stream, consumerGroup: group, value: info.lag });
      }
      if (info?.pending !== undefined) {
        samples.push({
          kind: 'pending',
          destination: stream,
          consumerGroup: group,
          value: info.pending,
        });
      }
      return samples;
    },
  });
}
