import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** The application's Prometheus metrics (one registry per application, so tests can run several). */
export interface Metrics {
  registry: Registry;
  httpRequests: Histogram<"method" | "status">;
  commands: Histogram<"command" | "outcome">;
  roomEvents: Counter<"type">;
  sockets: Gauge;
  ballotGroups: Histogram;
}

/** Creates the registry with process metrics and Stepstone's own. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "stepstone_" });
  return {
    registry,
    httpRequests: new Histogram({
      name: "stepstone_http_request_duration_seconds",
      help: "HTTP request duration by method and status class",
      labelNames: ["method", "status"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    commands: new Histogram({
      name: "stepstone_command_duration_seconds",
      help: "Socket.IO command duration by command and outcome (ok or the error code)",
      labelNames: ["command", "outcome"],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    roomEvents: new Counter({
      name: "stepstone_room_events_total",
      help: "Room events stored and published, by type",
      labelNames: ["type"],
      registers: [registry],
    }),
    sockets: new Gauge({
      name: "stepstone_socket_connections",
      help: "Socket.IO connections open on this node",
      registers: [registry],
    }),
    ballotGroups: new Histogram({
      name: "stepstone_ballot_group_size",
      help: "Ballots committed together in one transaction (group commit of one prompt's ballots)",
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers: [registry],
    }),
  };
}
