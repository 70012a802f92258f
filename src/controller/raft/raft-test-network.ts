// An in-memory network of RaftTransports for the driver tests: each message is delivered in a
// later macrotask (as a socket would), and links can be cut. Not used by production code.
import type { RaftTransport } from './raft-driver.js';
import type { RaftMessage } from './types.js';

export class InMemoryRaftNetwork {
  private readonly handlers = new Map<number, (m: RaftMessage) => void>();
  private readonly down = new Set<number>();
  delivered = 0;

  transport(nodeId: number): RaftTransport {
    return {
      send: (m) => {
        if (m.from !== nodeId) throw new Error(`node ${nodeId} sends a message from ${m.from}`);
        setImmediate(() => {
          if (this.down.has(m.from) || this.down.has(m.to)) return;
          const h = this.handlers.get(m.to);
          if (h === undefined) return;
          this.delivered++;
          h(m);
        });
      },
      setHandler: (h) => {
        this.handlers.set(nodeId, h);
      },
    };
  }

  /** A node leaves the network (a crash): nothing reaches it or comes from it. */
  remove(nodeId: number): void {
    this.handlers.delete(nodeId);
  }

  /** Cuts (or restores) every link of `nodeId`. */
  isolate(nodeId: number, isolated: boolean): void {
    if (isolated) this.down.add(nodeId);
    else this.down.delete(nodeId);
  }
}
