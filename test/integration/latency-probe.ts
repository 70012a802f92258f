// Run as a child process by integration tests: sends ApiVersions requests back to back on its own
// connection for a while and prints, as one JSON line, how many it sent and the longest
// round trip, i.e. the longest time the broker left another client waiting. A separate process,
// so that the test process's own work (decoding a large response) does not count as a stall.
//
//   node latency-probe.js <host:port> <durationMs>
import { ApiVersionsRequest } from '../../src/protocol/messages/ApiVersionsRequest.js';
import { ApiVersionsResponse } from '../../src/protocol/messages/ApiVersionsResponse.js';
import { WireClient } from './admin-wire.js';

export interface ProbeResult {
  probes: number;
  maxRttMs: number;
  p99RttMs: number;
}

async function main(): Promise<void> {
  const [bootstrap, duration] = process.argv.slice(2);
  const client = await WireClient.open(bootstrap!);
  const request = { ...ApiVersionsRequest.defaults(), clientSoftwareName: 'latency-probe', clientSoftwareVersion: '1' };
  const rtts: number[] = [];
  const end = performance.now() + Number(duration);
  while (performance.now() < end) {
    const t = performance.now();
    await client.send(ApiVersionsRequest, ApiVersionsResponse, 3, request);
    rtts.push(performance.now() - t);
  }
  client.close();
  rtts.sort((a, b) => a - b);
  const result: ProbeResult = { probes: rtts.length, maxRttMs: rtts.at(-1) ?? 0, p99RttMs: rtts[Math.floor(rtts.length * 0.99)] ?? 0 };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
