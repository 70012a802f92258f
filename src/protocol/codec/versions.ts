// Version ranges as Kafka's specs write them: "3+", "1-4", "2" or "none". A range is a small value
// type so the interpreter can ask `contains(version)` without parsing strings per call.

/** Highest version a spec can mean by "N+": versions travel as int16 on the wire. */
export const MAX_VERSION = 0x7fff;

export class VersionRange {
  static readonly NONE = new VersionRange(1, 0);
  static readonly ALL = new VersionRange(0, MAX_VERSION);

  /** Inclusive bounds; the range is empty when min > max. */
  constructor(
    readonly min: number,
    readonly max: number,
  ) {}

  /** Parses a spec's version string; throws on anything else (specs are trusted build input). */
  static parse(spec: string): VersionRange {
    const s = spec.trim();
    if (s === 'none') return VersionRange.NONE;
    let m = /^(\d+)\+$/.exec(s);
    if (m !== null) return new VersionRange(Number(m[1]), MAX_VERSION);
    m = /^(\d+)-(\d+)$/.exec(s);
    if (m !== null) return new VersionRange(Number(m[1]), Number(m[2]));
    m = /^(\d+)$/.exec(s);
    if (m !== null) return new VersionRange(Number(m[1]), Number(m[1]));
    throw new Error(`invalid version range "${spec}"`);
  }

  static since(min: number): VersionRange {
    return new VersionRange(min, MAX_VERSION);
  }

  get isEmpty(): boolean {
    return this.min > this.max;
  }

  contains(version: number): boolean {
    return version >= this.min && version <= this.max;
  }

  intersect(other: VersionRange): VersionRange {
    const min = Math.max(this.min, other.min);
    const max = Math.min(this.max, other.max);
    return min > max ? VersionRange.NONE : new VersionRange(min, max);
  }

  /** The spec spelling: "none", "3+", "1-4" or "2". */
  toString(): string {
    if (this.isEmpty) return 'none';
    if (this.max === MAX_VERSION) return `${this.min}+`;
    if (this.min === this.max) return `${this.min}`;
    return `${this.min}-${this.max}`;
  }
}
