import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProgressLine, bytesProgress } from './progress-line.js';

interface FakeStream { isTTY: boolean; written(): string; write(t: string): void }

function terminal(isTTY: boolean): FakeStream {
  let text = '';
  return { isTTY, written: () => text, write(t: string) { text += t; } };
}

describe('ProgressLine', () => {
  it('draws on a terminal at most once per interval, overwriting the previous line, and clears it', () => {
    const tty = terminal(true);
    let now = 0;
    const line = new ProgressLine(tty, () => now, 500);
    line.update(() => 'dumped 10 MiB');
    now = 100;
    line.update(() => 'dumped 20 MiB');
    assert.equal(tty.written(), '\rdumped 10 MiB', 'a redraw inside the interval is skipped');
    now = 600;
    line.update(() => 'at 3 MiB');
    assert.equal(tty.written(), '\rdumped 10 MiB\rat 3 MiB     ', 'a shorter line pads over the longer one');
    line.clear();
    const written = tty.written();
    assert.ok(written.endsWith(`\r${' '.repeat(8)}\r`), 'clear blanks what the last line showed');
    line.clear();
    assert.equal(tty.written().length, written.length, 'clearing twice writes nothing');
  });

  it('writes nothing when the stream is not a terminal', () => {
    const pipe = terminal(false);
    const line = new ProgressLine(pipe, () => 0, 0);
    line.update(() => 'x');
    line.clear();
    assert.equal(pipe.written(), '');
    assert.equal(line.enabled, false);
  });

  it('formats byte progress in MiB with a whole percentage', () => {
    assert.equal(bytesProgress(512 * 1024, 4 * 1024 * 1024), '0.5 of 4.0 MiB (12%)');
    assert.equal(bytesProgress(0, 0), '0.0 of 0.0 MiB (100%)');
  });
});
