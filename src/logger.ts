// Process-wide structured logger (pino, JSON lines on stderr). A leaf module: every layer may
// import it. Writes are synchronous: logging is rare (never per request) and a crash must not lose
// the last lines. The level comes from TRIBUTARY_LOG_LEVEL (default "info").
import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

const level = process.env['TRIBUTARY_LOG_LEVEL'] ?? 'info';

export const rootLogger: Logger = pino({ level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));

/** A child logger tagged with the component that logs. */
export function loggerFor(component: string): Logger {
  return rootLogger.child({ component });
}
