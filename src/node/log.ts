// The daemon's structured log: pino, JSON lines on stderr, level from
// --log-level / the config file's logLevel (SSLACC_LOG_LEVEL overrides the
// default when neither is given: the benches run the daemon at "warn").
import { pino, type Logger } from "pino";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function createLogger(level: LogLevel, destination: NodeJS.WritableStream | number = 2): Logger {
  const dest = typeof destination === "number" ? pino.destination({ fd: destination, sync: false }) : destination;
  return pino({ level, base: { pid: process.pid, name: "sslacc" } }, dest);
}
