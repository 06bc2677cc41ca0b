import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

// Hand-written OpenMetrics, as the /metrics of two services would read with Baton's
// documented names (observability/README.md): user_service sends to a Kafka topic,
// notification_service consumes it. The histograms carry exemplars of one trace.

/** The trace of the exemplars. */
export const EXEMPLAR_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
/** The send span (operation duration exemplar). */
export const SEND_SPAN_ID = '00f067aa0ba902b7';
/** The process span (process duration and time in queue exemplars). */
export const PROCESS_SPAN_ID = 'b7ad6b7169203331';

export const CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

const KAFKA = 'messaging_system="kafka",messaging_destination_name="user.registered"';
const SERVER = 'server_address="127.0.0.1",server_port="9092"';
// As core records them: messaging_operation_type only on the operation duration (semconv).
const SENT = `${KAFKA},messaging_operation_name="send",${SERVER}`;
const SEND = `${SENT},messaging_operation_type="send"`;
const PROCESS = `${KAFKA},messaging_operation_name="process",messaging_consumer_group_name="notification_service",messaging_destination_partition_id="0",${SERVER}`;
const GROUP = `${KAFKA},messaging_consumer_group_name="notification_service"`;

// Counters grow by 10 per scrape so that rates (and the recording rules) are not zero.
function userService(n: number): string {
  return `# HELP messaging_client_sent_messages Messages a producer attempted to send.
# TYPE messaging_client_sent_messages counter
messaging_client_sent_messages_total{${SENT}} ${100 + 10 * n}
messaging_client_sent_messages_total{${SENT},error_type="KafkaJSNumberOfRetriesExceeded"} ${2 + n}
# HELP messaging_client_operation_duration_seconds Duration of a messaging operation initiated by a producer or consumer client.
# TYPE messaging_client_operation_duration_seconds histogram
# UNIT messaging_client_operation_duration_seconds seconds
messaging_client_operation_duration_seconds_bucket{${SEND},le="0.005"} ${90 + 9 * n}
messaging_client_operation_duration_seconds_bucket{${SEND},le="0.01"} ${99 + 10 * n} # {trace_id="${EXEMPLAR_TRACE_ID}",span_id="${SEND_SPAN_ID}"} 0.0071
messaging_client_operation_duration_seconds_bucket{${SEND},le="+Inf"} ${100 + 10 * n}
messaging_client_operation_duration_seconds_sum{${SEND}} ${0.4 + 0.04 * n}
messaging_client_operation_duration_seconds_count{${SEND}} ${100 + 10 * n}
# EOF
`;
}

function notificationService(n: number): string {
  return `# HELP messaging_client_consumed_messages Messages delivered to the application.
# TYPE messaging_client_consumed_messages counter
messaging_client_consumed_messages_total{${PROCESS}} ${95 + 9 * n}
messaging_client_consumed_messages_total{${PROCESS},error_type="SmtpError"} ${5 + n}
# HELP messaging_process_duration_seconds Duration of processing operation.
# TYPE messaging_process_duration_seconds histogram
# UNIT messaging_process_duration_seconds seconds
messaging_process_duration_seconds_bucket{${PROCESS},le="0.05"} ${80 + 8 * n}
messaging_process_duration_seconds_bucket{${PROCESS},le="0.1"} ${95 + 9 * n} # {trace_id="${EXEMPLAR_TRACE_ID}",span_id="${PROCESS_SPAN_ID}"} 0.0875
messaging_process_duration_seconds_bucket{${PROCESS},le="+Inf"} ${95 + 9 * n}
messaging_process_duration_seconds_sum{${PROCESS}} ${4.1 + 0.4 * n}
messaging_process_duration_seconds_count{${PROCESS}} ${95 + 9 * n}
# HELP baton_consumer_time_in_queue_seconds Time from the creation of a message to the start of its processing.
# TYPE baton_consumer_time_in_queue_seconds histogram
# UNIT baton_consumer_time_in_queue_seconds seconds
baton_consumer_time_in_queue_seconds_bucket{${PROCESS},le="0.25"} ${60 + 5 * n}
baton_consumer_time_in_queue_seconds_bucket{${PROCESS},le="2.5"} ${100 + 10 * n} # {trace_id="${EXEMPLAR_TRACE_ID}",span_id="${PROCESS_SPAN_ID}"} 1.93
baton_consumer_time_in_queue_seconds_bucket{${PROCESS},le="+Inf"} ${100 + 10 * n}
baton_consumer_time_in_queue_seconds_sum{${PROCESS}} ${61.5 + 6 * n}
baton_consumer_time_in_queue_seconds_count{${PROCESS}} ${100 + 10 * n}
# HELP baton_consumer_lag Messages in the destination that the consumer has not processed yet.
# TYPE baton_consumer_lag gauge
baton_consumer_lag{${GROUP},messaging_destination_partition_id="0"} 7
baton_consumer_lag{${GROUP},messaging_destination_partition_id="1"} 5
# HELP baton_consumer_pending Messages delivered to the consumer and not yet acknowledged.
# TYPE baton_consumer_pending gauge
baton_consumer_pending{${GROUP},messaging_destination_partition_id="0"} 2
# EOF
`;
}

const SERVICES: Record<string, (scrape: number) => string> = {
  user_service: userService,
  notification_service: notificationService,
};

/** The fixture's HTTP server: `/<service>/metrics` for user_service and notification_service. */
export interface MetricsFixture {
  address: string;
  /** The Accept header of every request, in order. */
  acceptHeaders: string[];
  close(): Promise<void>;
}

export async function serveMetricsFixture(): Promise<MetricsFixture> {
  const acceptHeaders: string[] = [];
  const scrapes = new Map<string, number>();
  const server: Server = createServer((request, response) => {
    const service = /^\/(\w+)\/metrics$/.exec(request.url ?? '')?.[1];
    const render = service ? SERVICES[service] : undefined;
    if (!service || !render) {
      response.writeHead(404).end();
      return;
    }
    acceptHeaders.push(request.headers.accept ?? '');
    const n = (scrapes.get(service) ?? 0) + 1;
    scrapes.set(service, n);
    response.writeHead(200, { 'content-type': CONTENT_TYPE }).end(render(n));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    acceptHeaders,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
