// How the broker side learns about metadata: the controller publishes every committed change, in
// commit order, as the records it committed and the image they made; subscribers see each image
// once, after it is committed, and never a pending one.
import { MetadataImage } from './image.js';
import type { MetadataRecord } from './records.js';

export interface MetadataUpdate {
  /** The committed records, in log order. */
  readonly records: readonly MetadataRecord[];
  /** The image before them. */
  readonly previous: MetadataImage;
  /** The image with them applied. */
  readonly image: MetadataImage;
  /** Offset of the last committed record (-1: empty log): Kafka's FinalizedFeaturesEpoch. */
  readonly offset: bigint;
}

export type MetadataListener = (update: MetadataUpdate) => void;

/** The latest committed image, as the broker side reads it. */
export interface MetadataView {
  readonly image: MetadataImage;
  /** Offset of the last committed record in `image` (-1: empty log). */
  readonly offset: bigint;
}

/** Where committed images are published; the broker side subscribes. */
export interface MetadataPublisher extends MetadataView {
  /** `listener` sees every image published from now on, in commit order. */
  subscribe(listener: MetadataListener): void;
}

/** A MetadataPublisher that its owner (the controller) feeds through publish(). */
export class MetadataPublication implements MetadataPublisher {
  private current: MetadataImage;
  private currentOffset: bigint;
  private readonly listeners: MetadataListener[] = [];

  constructor(image: MetadataImage = MetadataImage.EMPTY, offset = -1n) {
    this.current = image;
    this.currentOffset = offset;
  }

  get image(): MetadataImage {
    return this.current;
  }

  get offset(): bigint {
    return this.currentOffset;
  }

  subscribe(listener: MetadataListener): void {
    this.listeners.push(listener);
  }

  /** Makes `image` current (it must follow the current one) and tells every subscriber. */
  publish(records: readonly MetadataRecord[], image: MetadataImage, offset: bigint): void {
    if (offset < this.currentOffset) throw new Error(`metadata published out of order: offset ${offset} after ${this.currentOffset}`);
    const update: MetadataUpdate = { records, previous: this.current, image, offset };
    this.current = image;
    this.currentOffset = offset;
    for (const l of this.listeners) l(update);
  }
}
