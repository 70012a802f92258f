import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cooperativeStickyAssignor, rangeAssignor } from './assignors.js';

const counts = new Map([
  ['a', 5],
  ['b', 2],
]);

test('range gives members sorted by id consecutive ranges, extras first', () => {
  const out = rangeAssignor.assign(
    [
      { memberId: 'm2', topics: ['a', 'b'], ownedPartitions: [] },
      { memberId: 'm1', topics: ['a', 'b'], ownedPartitions: [] },
    ],
    counts,
  );
  assert.deepEqual(out.get('m1'), [{ topic: 'a', partition: 0 }, { topic: 'a', partition: 1 }, { topic: 'a', partition: 2 }, { topic: 'b', partition: 0 }]);
  assert.deepEqual(out.get('m2'), [{ topic: 'a', partition: 3 }, { topic: 'a', partition: 4 }, { topic: 'b', partition: 1 }]);
});

test('cooperative-sticky balances and assigns every partition to one member', () => {
  const out = cooperativeStickyAssignor.assign(
    ['x', 'y', 'z'].map((memberId) => ({ memberId, topics: ['a', 'b'], ownedPartitions: [] })),
    counts,
  );
  const sizes = [...out.values()].map((l) => l.length).sort();
  assert.deepEqual(sizes, [2, 2, 3]);
  const all = [...out.values()].flat().map((tp) => `${tp.topic}-${tp.partition}`).sort();
  assert.deepEqual(all, ['a-0', 'a-1', 'a-2', 'a-3', 'a-4', 'b-0', 'b-1']);
});

test('cooperative-sticky keeps owned partitions and withholds ones moving from a live owner', () => {
  const owned = [0, 1, 2, 3, 4].map((partition) => ({ topic: 'a', partition }));
  const out = cooperativeStickyAssignor.assign(
    [
      { memberId: 'old', topics: ['a'], ownedPartitions: owned },
      { memberId: 'new', topics: ['a'], ownedPartitions: [] },
    ],
    new Map([['a', 5]]),
  );
  // The old owner keeps its quota (3); the two it gives up are not given to 'new' yet.
  assert.equal(out.get('old')!.length, 3);
  assert.ok(out.get('old')!.every((tp) => owned.some((o) => o.partition === tp.partition)));
  assert.deepEqual(out.get('new'), []);
  // Next generation: 'old' owns 3, so the 2 free ones go to 'new'.
  const next = cooperativeStickyAssignor.assign(
    [
      { memberId: 'old', topics: ['a'], ownedPartitions: out.get('old')! },
      { memberId: 'new', topics: ['a'], ownedPartitions: [] },
    ],
    new Map([['a', 5]]),
  );
  assert.deepEqual(next.get('old'), out.get('old'));
  assert.equal(next.get('new')!.length, 2);
});
