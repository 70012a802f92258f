// One self-overwriting status line on stderr for a long-running tool (dump-log of a big segment,
// reset-offsets over many groups), shown only when stderr is a terminal so that piped output and
// logs stay exactly Kafka's. Redrawn at most once per `intervalMs`; cleared when done.

export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

export class ProgressLine {
  private lastDrawMs: number | null = null;
  private drawnWidth = 0;

  constructor(
    private readonly stream: ProgressStream = process.stderr,
    private readonly now: () => number = () => performance.now(),
    private readonly intervalMs = 500,
  ) {}

  get enabled(): boolean {
    return this.stream.isTTY === true;
  }

  /** Shows `text`, unless the line was drawn less than intervalMs ago. */
  update(text: () => string): void {
    if (!this.enabled) return;
    const t = this.now();
    if (this.lastDrawMs !== null && t - this.lastDrawMs < this.intervalMs) return;
    this.lastDrawMs = t;
    const line = text();
    this.stream.write(`\r${line}${' '.repeat(Math.max(0, this.drawnWidth - line.length))}`);
    this.drawnWidth = line.length;
  }

  /** Erases the line (before normal output continues, or at the end). */
  clear(): void {
    if (this.drawnWidth === 0) return;
    this.stream.write(`\r${' '.repeat(this.drawnWidth)}\r`);
    this.drawnWidth = 0;
    this.lastDrawMs = null;
  }
}

/** `12.5 of 1024.0 MiB (1%)` */
export function bytesProgress(done: number, total: number): string {
  const mib = (n: number): string => (n / (1024 * 1024)).toFixed(1);
  const pct = total === 0 ? 100 : Math.floor((done / total) * 100);
  return `${mib(done)} of ${mib(total)} MiB (${pct}%)`;
}
