// Exponential backoff with jitter and abortable sleeps.
import { AbortError } from './errors.js';

export interface BackoffOptions {
  /** First delay (Kafka's retry.backoff.ms). */
  initialMs?: number;
  /** Cap (Kafka's retry.backoff.max.ms). */
  maxMs?: number;
}

/** Delay before attempt `attempt` (0-based): initial * 2^attempt, capped, with +-20% jitter. */
export function backoffMs(attempt: number, opts: BackoffOptions = {}): number {
  const initial = opts.initialMs ?? 100;
  const max = opts.maxMs ?? 1000;
  const base = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  return Math.max(0, Math.round(base * (0.8 + Math.random() * 0.4)));
}

/** Resolves after `ms`, or rejects with AbortError when `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(new AbortError(signal.reason));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortError(signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
