// Time is injected so retention, segment.ms and flush.ms can be tested without waiting.
export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private timeMs: number = 0) {}
  nowMs(): number {
    return this.timeMs;
  }
  advance(ms: number): void {
    this.timeMs += ms;
  }
  set(ms: number): void {
    this.timeMs = ms;
  }
}
