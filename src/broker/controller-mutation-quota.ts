// The controller mutation quota of KIP-599: a token bucket of partition mutations (partitions
// created by CreateTopics, CreatePartitions and auto-creation, partitions deleted by
// DeleteTopics). It fills at `rate` tokens per second up to a burst of
// rate * controller.quota.window.num * controller.quota.window.size.seconds, and starts full.
//
// As in Kafka, a request is asked once per topic:
//   - strict (CreateTopics v6+, CreatePartitions v3+, DeleteTopics v5+, auto-creation): a topic
//     is admitted while the bucket is not negative and then takes its partitions, even when that
//     drives the bucket below zero; once it is negative, topics get THROTTLING_QUOTA_EXCEEDED and
//     the response's throttle_time_ms says how long until it is back at zero;
//   - permissive (older versions, which have no such error): every topic is admitted, and the
//     throttle time the bucket went into is reported, and waited out before the response.
//
// Kafka's rate comes from client quotas (controller_mutation_rate per user/client-id), which
// Tributary does not have yet: controller.quota.mutation.rate is one broker-wide default that
// every client shares (they are all the anonymous principal until authentication exists).
// Time is injected; nothing here reads the clock or sets timers.
import type { PartitionMutationQuota } from '../metadata/controller-channel.js';

export interface MutationQuotaConfig {
  /** Partition mutations per second (controller.quota.mutation.rate). */
  ratePerSecond: number;
  /** controller.quota.window.num */
  windowNum: number;
  /** controller.quota.window.size.seconds */
  windowSizeSeconds: number;
}

/** One request's view of the quota: what it was refused or charged, and for how long to throttle. */
export interface RequestMutationQuota extends PartitionMutationQuota {
  /** How long the client should wait (ms) before its next mutation; 0 when not throttled. */
  throttleTimeMs(): number;
}

export class ControllerMutationQuota {
  private tokens: number;
  private lastRefillMs: number;
  private readonly burst: number;

  constructor(
    private readonly config: MutationQuotaConfig,
    private readonly nowMs: () => number,
  ) {
    if (!(config.ratePerSecond > 0)) throw new Error(`controller mutation rate must be positive, got ${config.ratePerSecond}`);
    this.burst = config.ratePerSecond * config.windowNum * config.windowSizeSeconds;
    this.tokens = this.burst;
    this.lastRefillMs = nowMs();
  }

  /** Tokens in the bucket now (negative while throttled). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /** A recorder for one request; strict ones refuse topics once the bucket is negative. */
  forRequest(strict: boolean): RequestMutationQuota {
    let throttleMs = 0;
    let throttleSetAtMs = 0;
    const setThrottle = (): void => {
      throttleMs = Math.round((-this.tokens / this.config.ratePerSecond) * 1000);
      throttleSetAtMs = this.nowMs();
    };
    return {
      tryRecord: (partitions: number): boolean => {
        this.refill();
        if (strict && this.tokens < 0) {
          setThrottle();
          return false;
        }
        this.tokens = Math.min(this.burst, this.tokens - partitions);
        if (!strict && this.tokens < 0) setThrottle();
        return true;
      },
      // As Kafka: the throttle time recorded, less the time since it was recorded.
      throttleTimeMs: () => Math.max(0, throttleMs - (this.nowMs() - throttleSetAtMs)),
    };
  }

  private refill(): void {
    const now = this.nowMs();
    const elapsedMs = Math.max(0, now - this.lastRefillMs);
    this.tokens = Math.min(this.burst, this.tokens + (elapsedMs / 1000) * this.config.ratePerSecond);
    this.lastRefillMs = now;
  }
}

/** Longest an older client's response is held back; a longer wait would only time it out. */
export const MAX_THROTTLE_DELAY_MS = 10_000;

/**
 * Puts the request's throttle time in a CreateTopics/CreatePartitions/DeleteTopics response
 * (when its version has the field) and, for versions before strict quotas, waits it out before
 * answering, as Kafka holds a throttled older client back.
 */
export function throttledResponse<R extends { throttleTimeMs: number }>(
  broker: { sleep(ms: number): Promise<void> },
  hasThrottleField: boolean,
  strict: boolean,
  quota: RequestMutationQuota,
  res: R,
): R | Promise<R> {
  const throttleMs = quota.throttleTimeMs();
  if (hasThrottleField) res.throttleTimeMs = throttleMs;
  if (strict || throttleMs === 0) return res;
  return broker.sleep(Math.min(throttleMs, MAX_THROTTLE_DELAY_MS)).then(() => res);
}
