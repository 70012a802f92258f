// An immutable map built as a small layer of changes over its predecessor, so that the next
// metadata image costs what changed, not the size of the cluster. Lookups walk at most
// MAX_DEPTH layers; a layer is flattened into a plain Map when the chain gets deeper or the
// changes get large against the whole, and on first iteration (the flat copy is kept, and the
// chain to the predecessors released). Iteration order is a Map's: keys in first-insertion
// order, a changed value keeps its key's place, a deleted and re-added key goes last.

export const DELETED: unique symbol = Symbol('deleted');
export type Change<V> = V | typeof DELETED;

const MAX_DEPTH = 16;
/** Changes larger than size / FLATTEN_RATIO are applied to a flat copy at once. */
const FLATTEN_RATIO = 4;

export class LayeredMap<K, V> implements ReadonlyMap<K, V> {
  readonly size: number;
  private flat: Map<K, V> | null;
  private parent: LayeredMap<K, V> | null;
  private changes: ReadonlyMap<K, Change<V>> | null;
  private readonly depth: number;

  private constructor(flat: Map<K, V> | null, parent: LayeredMap<K, V> | null, changes: ReadonlyMap<K, Change<V>> | null, size: number, depth: number) {
    this.flat = flat;
    this.parent = parent;
    this.changes = changes;
    this.size = size;
    this.depth = depth;
  }

  /** A map owning `entries` (the caller must not change it afterwards). */
  static of<K, V>(entries: Map<K, V> = new Map()): LayeredMap<K, V> {
    return new LayeredMap<K, V>(entries, null, null, entries.size, 0);
  }

  /** This map with `changes` applied (a value to set, DELETED to remove); this one is unchanged. */
  with(changes: ReadonlyMap<K, Change<V>>): LayeredMap<K, V> {
    if (changes.size === 0) return this;
    let size = this.size;
    for (const [k, v] of changes) {
      const had = this.has(k);
      if (v === DELETED) {
        if (had) size--;
      } else if (!had) size++;
    }
    if (this.depth + 1 >= MAX_DEPTH || changes.size * FLATTEN_RATIO > this.size) {
      const flat = new Map(this.flatMap());
      applyChanges(flat, changes);
      return LayeredMap.of(flat);
    }
    return new LayeredMap<K, V>(null, this, changes, size, this.depth + 1);
  }

  get(key: K): V | undefined {
    for (let m: LayeredMap<K, V> | null = this; m !== null; m = m.parent) {
      if (m.flat !== null) return m.flat.get(key);
      const c = m.changes!.get(key);
      if (c !== undefined) return c === DELETED ? undefined : c;
    }
    return undefined;
  }

  /** Values are never undefined, so presence is a defined lookup. */
  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  forEach(fn: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.flatMap()) fn.call(thisArg, v, k, this);
  }

  entries(): MapIterator<[K, V]> {
    return this.flatMap().entries();
  }

  keys(): MapIterator<K> {
    return this.flatMap().keys();
  }

  values(): MapIterator<V> {
    return this.flatMap().values();
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  /** The flat Map of this layer, built once from the nearest flat predecessor. */
  private flatMap(): ReadonlyMap<K, V> {
    if (this.flat !== null) return this.flat;
    const layers: ReadonlyMap<K, Change<V>>[] = [];
    let m: LayeredMap<K, V> = this;
    while (m.flat === null) {
      layers.push(m.changes!);
      m = m.parent!;
    }
    const flat = new Map(m.flat);
    for (let i = layers.length - 1; i >= 0; i--) applyChanges(flat, layers[i]!);
    this.flat = flat;
    this.parent = null;
    this.changes = null;
    return flat;
  }
}

function applyChanges<K, V>(target: Map<K, V>, changes: ReadonlyMap<K, Change<V>>): void {
  for (const [k, v] of changes) {
    if (v === DELETED) target.delete(k);
    else target.set(k, v);
  }
}
