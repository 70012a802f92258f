// `tributary console-producer`: kafka-console-producer.sh — one record per stdin line.
// --property parse.key=true key.separator=: ; parse.headers=true headers.delimiter=\t
// headers.separator=, headers.key.separator=: ; null.marker.
import { createInterface } from 'node:readline';
import { Producer, type HeaderEntry, type ProducerRecord } from '../client/index.js';
import { UsageError, clientOptions, flag, keyValues, parseToolArgs, required, runTool, showHelp, str, strs } from './tool-support.js';

const USAGE = `Usage: tributary console-producer --bootstrap-server HOST:PORT --topic T
  [--property parse.key=true --property key.separator=:] [--property parse.headers=true]
  [--producer-property k=v ...] [--producer.config FILE] [--compression-codec CODEC]
  [--request-required-acks ACKS] [--sync]
`;

export async function runConsoleProducer(argv: string[]): Promise<void> {
  await runTool('console-producer', USAGE, async () => {
    const { values } = parseToolArgs(argv, {
      topic: { type: 'string' },
      property: { type: 'string', multiple: true },
      'producer-property': { type: 'string', multiple: true },
      'producer.config': { type: 'string' },
      'compression-codec': { type: 'string' },
      'request-required-acks': { type: 'string' },
      sync: { type: 'boolean' },
      'broker-list': { type: 'string' },
    });
    if (showHelp(values, USAGE)) return;
    const topic = required(values, 'topic');
    const props = keyValues(strs(values, 'property'), 'property', false);
    const producerProps = keyValues(strs(values, 'producer-property'), 'producer property', false);
    const codec = str(values, 'compression-codec');
    if (codec !== undefined) producerProps.set('compression.type', codec === '' ? 'gzip' : codec);
    const acks = str(values, 'request-required-acks');
    if (acks !== undefined) producerProps.set('acks', acks);
    if (str(values, 'broker-list') !== undefined && str(values, 'bootstrap-server') === undefined) values['bootstrap-server'] = str(values, 'broker-list');
    const file = str(values, 'producer.config');
    const opts = clientOptions(values, { files: file === undefined ? [] : [file], props: producerProps });
    const parseKey = props.get('parse.key') === 'true';
    const keySeparator = unescape(props.get('key.separator') ?? '\t');
    const parseHeaders = props.get('parse.headers') === 'true';
    const headersDelimiter = unescape(props.get('headers.delimiter') ?? '\t');
    const headersSeparator = unescape(props.get('headers.separator') ?? ',');
    const headersKeySeparator = unescape(props.get('headers.key.separator') ?? ':');
    const nullMarker = props.get('null.marker');
    for (const k of props.keys()) {
      if (!['parse.key', 'key.separator', 'parse.headers', 'headers.delimiter', 'headers.separator', 'headers.key.separator', 'null.marker', 'ignore.error'].includes(k)) {
        throw new UsageError(`unknown --property '${k}'`);
      }
    }
    const producer = new Producer({ ...opts, lingerMs: opts.lingerMs ?? 5 });
    const sync = flag(values, 'sync');
    let lineNo = 0;
    try {
      // On a terminal, Kafka's `>` prompt before each line; never into a pipe.
      const prompt = process.stdin.isTTY === true && process.stdout.isTTY === true ? () => process.stdout.write('>') : () => {};
      const rl = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
      prompt();
      for await (const line of rl) {
        lineNo++;
        let rest = line;
        const record: ProducerRecord = { topic, value: null };
        if (parseHeaders) {
          const i = rest.indexOf(headersDelimiter);
          if (i < 0) throw new Error(`No headers delimiter found on line number ${lineNo}: '${line}'`);
          const headerText = rest.slice(0, i);
          rest = rest.slice(i + headersDelimiter.length);
          const headers: HeaderEntry[] = [];
          if (headerText !== '') {
            for (const h of headerText.split(headersSeparator)) {
              const j = h.indexOf(headersKeySeparator);
              if (j < 0) headers.push({ key: h, value: null });
              else headers.push({ key: h.slice(0, j), value: nullOr(h.slice(j + headersKeySeparator.length), nullMarker) });
            }
          }
          record.headers = headers;
        }
        if (parseKey) {
          const i = rest.indexOf(keySeparator);
          if (i < 0) throw new Error(`No key separator found on line number ${lineNo}: '${line}'`);
          record.key = nullOr(rest.slice(0, i), nullMarker);
          rest = rest.slice(i + keySeparator.length);
        }
        record.value = nullOr(rest, nullMarker);
        if (sync) await producer.send(record);
        else {
          const wait = producer.produce(record);
          if (wait !== undefined) await wait;
        }
        prompt();
      }
      await producer.flush();
    } finally {
      await producer.close({ force: true });
    }
  });
}

function nullOr(s: string, marker: string | undefined): string | null {
  return marker !== undefined && s === marker ? null : s;
}

/** Java-style escapes that shells pass literally: \t, \n. */
export function unescape(s: string): string {
  return s.replace(/\\t/g, '\t').replace(/\\n/g, '\n').replace(/\\r/g, '\r');
}
