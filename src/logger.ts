// Process-wide structured logger (pino, JSON lines on stderr). A leaf module: every layer may
// import it. The level comes from TRIBUTARY_LOG_LEVEL (default "info"; tests set "warn").
import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

const level = process.env['TRIBUTARY_LOG_LEVEL'] ?? 'info';

export const rootLogger: Logger = pino({ level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: false }));

/** A child logger tagged with the component that logs. */
export function loggerFor(component: string): Logger {
  return rootLogger.child({ component });
}
