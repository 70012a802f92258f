// Client telemetry (KIP-714) as a Kafka broker serves it when no client-metrics subscription is
// configured: every client instance gets an empty list of requested metrics and the default push
// interval (5 minutes), so clients collect nothing, push nothing and only ask again after the
// interval. Pushes are still validated as Kafka validates them (instance and subscription ids,
// compression type, size, push interval); their payload is dropped, since nothing was asked for.
//
// Client instances are kept in a bounded map (Kafka's cache size, least recently used first
// out) and expire after three push intervals, as Kafka's do. Time and ids are injected.
import { crc32c } from '../protocol/records/crc32c.js';
import { ZERO_UUID } from '../protocol/codec/reader.js';
import { ErrorCode } from '../protocol/errors.js';
import type { GetTelemetrySubscriptionsResponseData } from '../protocol/messages/GetTelemetrySubscriptionsResponse.js';
import type { PushTelemetryRequestData } from '../protocol/messages/PushTelemetryRequest.js';

/** Kafka's ClientMetricsConfigs interval.ms default, used when no subscription matches. */
export const DEFAULT_PUSH_INTERVAL_MS = 5 * 60 * 1000;
/** Compression types a push may use, in Kafka's order of preference: zstd, lz4, gzip, snappy. */
export const ACCEPTED_COMPRESSION_TYPES: readonly number[] = [4, 3, 1, 2];
const COMPRESSION_NONE = 0;
const MAX_INSTANCES = 16_384;
const EXPIRY_INTERVALS = 3;

interface ClientInstance {
  subscriptionId: number;
  /** When the last push (or the subscription) was accepted; the next push is due an interval later. */
  lastMs: number;
  terminated: boolean;
}

/** The GetTelemetrySubscriptions answer, less the throttle time and error code. */
export type TelemetrySubscription = Omit<GetTelemetrySubscriptionsResponseData, 'throttleTimeMs' | 'errorCode'>;

export class ClientTelemetry {
  private readonly instances = new Map<string, ClientInstance>();

  constructor(
    private readonly opts: {
      nowMs: () => number;
      /** A new client instance id (Kafka's Uuid.randomUuid, in display form). */
      newInstanceId: () => string;
      /** telemetry.max.bytes. */
      maxBytes: () => number;
    },
  ) {}

  /** GetTelemetrySubscriptions: an instance id for a new client (id zero), and no metrics. */
  subscribe(clientInstanceId: string): TelemetrySubscription {
    const id = clientInstanceId === ZERO_UUID ? this.opts.newInstanceId() : clientInstanceId;
    // Kafka derives the id from the subscription; with none, from the interval and the instance.
    const subscriptionId = crc32c(Buffer.from(`${DEFAULT_PUSH_INTERVAL_MS}${id}`)) | 0;
    this.touch(id, { subscriptionId, lastMs: this.opts.nowMs(), terminated: false });
    return {
      clientInstanceId: id,
      subscriptionId,
      acceptedCompressionTypes: [...ACCEPTED_COMPRESSION_TYPES],
      pushIntervalMs: DEFAULT_PUSH_INTERVAL_MS,
      telemetryMaxBytes: this.opts.maxBytes(),
      deltaTemporality: true,
      requestedMetrics: [],
    };
  }

  /** PushTelemetry: Kafka's error code for the push (NONE when accepted). */
  push(p: PushTelemetryRequestData): number {
    if (p.clientInstanceId === ZERO_UUID) return ErrorCode.INVALID_REQUEST;
    const now = this.opts.nowMs();
    const instance = this.live(p.clientInstanceId, now);
    if (instance === undefined || instance.subscriptionId !== p.subscriptionId) return ErrorCode.UNKNOWN_SUBSCRIPTION_ID;
    // A terminating client may push once more at any time; after that it is gone.
    if (instance.terminated) return ErrorCode.INVALID_REQUEST;
    if (!p.terminating && now - instance.lastMs < DEFAULT_PUSH_INTERVAL_MS) return ErrorCode.THROTTLING_QUOTA_EXCEEDED;
    if (p.compressionType !== COMPRESSION_NONE && !ACCEPTED_COMPRESSION_TYPES.includes(p.compressionType)) return ErrorCode.UNSUPPORTED_COMPRESSION_TYPE;
    if (p.metrics.length > this.opts.maxBytes()) return ErrorCode.TELEMETRY_TOO_LARGE;
    this.touch(p.clientInstanceId, { ...instance, lastMs: now, terminated: p.terminating });
    return ErrorCode.NONE;
  }

  get size(): number {
    return this.instances.size;
  }

  private live(id: string, now: number): ClientInstance | undefined {
    const instance = this.instances.get(id);
    if (instance !== undefined && now - instance.lastMs > EXPIRY_INTERVALS * DEFAULT_PUSH_INTERVAL_MS) {
      this.instances.delete(id);
      return undefined;
    }
    return instance;
  }

  /** Stores an instance as the most recently used one, evicting the least recently used. */
  private touch(id: string, instance: ClientInstance): void {
    this.instances.delete(id);
    this.instances.set(id, instance);
    if (this.instances.size > MAX_INSTANCES) this.instances.delete(this.instances.keys().next().value!);
  }
}
