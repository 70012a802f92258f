#!/usr/bin/env node
// The package's command: the compiled CLI lives in dist/ (built by `npm run build`).
// libuv's thread pool (4 threads unless set) runs a clean shutdown's fsyncs: 16 let thousands of
// partitions close together (storage/deferred-sync.ts). Set before anything uses the pool.
process.env.UV_THREADPOOL_SIZE ??= '16';
import('../dist/src/cli/main.js').then((m) => m.main(process.argv.slice(2))).catch((err) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
