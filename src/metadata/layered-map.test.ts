import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DELETED, LayeredMap } from './layered-map.js';

test('a layered map reads and iterates as the Map with the same changes applied, and its predecessors stay as they were', () => {
  let layered = LayeredMap.of(new Map(Array.from({ length: 100 }, (_, i) => [i, `v${i}`] as [number, string])));
  const reference = new Map(layered);
  const versions: { layered: LayeredMap<number, string>; expected: [number, string][] }[] = [];
  // Deterministic mixes of sets, updates and deletes, deep enough to flatten on the way.
  for (let step = 0; step < 30; step++) {
    const changes = new Map<number, string | typeof DELETED>();
    for (let j = 0; j < 3; j++) {
      const k = (step * 37 + j * 11) % 130;
      if ((step + j) % 3 === 0) changes.set(k, DELETED);
      else changes.set(k, `s${step}-${j}`);
    }
    layered = layered.with(changes);
    for (const [k, v] of changes) {
      if (v === DELETED) reference.delete(k);
      else reference.set(k, v);
    }
    versions.push({ layered, expected: [...reference] });
    assert.equal(layered.size, reference.size);
    for (let k = 0; k < 130; k++) assert.equal(layered.get(k), reference.get(k), `key ${k} at step ${step}`);
  }
  for (const v of versions) assert.deepEqual([...v.layered], v.expected, 'iteration order is the Map\'s');
  assert.equal(layered.with(new Map()), layered);
});
