// Process-wide structured logger (pino) on stderr. A leaf module: every layer may import it.
// Writes are synchronous: logging is rare (never per request) and a crash must not lose the last
// lines. TRIBUTARY_LOG_LEVEL sets the level (default "info"); TRIBUTARY_LOG_FORMAT is "json" (one
// JSON object per line, for log shippers) or "text" (human-readable, pino-pretty); the default is
// text on a terminal and JSON anywhere else.
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';

export type Logger = PinoLogger;

const level = process.env['TRIBUTARY_LOG_LEVEL'] ?? 'info';
const format = process.env['TRIBUTARY_LOG_FORMAT'] ?? (process.stderr.isTTY === true ? 'text' : 'json');

function destination(): DestinationStream {
  if (format === 'text') {
    return pretty({ destination: 2, sync: true, colorize: process.stderr.isTTY === true, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l', ignore: 'pid,hostname,component', singleLine: true, messageFormat: '[{component}] {msg}' });
  }
  return pino.destination({ fd: 2, sync: true });
}

export const rootLogger: Logger = pino({ level, base: { pid: process.pid } }, destination());

/** A child logger tagged with the component that logs. */
export function loggerFor(component: string): Logger {
  return rootLogger.child({ component });
}
