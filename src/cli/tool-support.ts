// Shared plumbing of the client tools: argument parsing with Kafka's flag names, the common
// --bootstrap-server / --command-config options, and error reporting (one line on stderr, a
// non-zero exit, no stack trace unless TRIBUTARY_DEBUG is set).
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { KafkaError } from '../protocol/errors.js';
import { clientOptionsFromProperties, parseProperties, type AnyClientOptions } from '../client/properties.js';

/** A mistake in the command line: reported with the tool's usage hint. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A failure whose message is already the line to print (Kafka's own wording). */
export class ToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolError';
  }
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export const COMMON_OPTIONS: OptionSpec = {
  'bootstrap-server': { type: 'string' },
  'command-config': { type: 'string' },
  help: { type: 'boolean' },
};

export type ParsedValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** Parses argv strictly; unknown flags are usage errors. */
export function parseToolArgs(argv: string[], options: OptionSpec): { values: ParsedValues; positionals: string[] } {
  // Kafka's tools take negative numbers as values (--time -1, --throughput -1); parseArgs would
  // read them as flags, so they are joined to their option first.
  const all = { ...COMMON_OPTIONS, ...options };
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    const spec = a.startsWith('--') ? all[a.slice(2)] : undefined;
    if (spec?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      args.push(`${a}=${next}`);
      i++;
    } else {
      args.push(a);
    }
  }
  try {
    const { values, positionals } = parseArgs({ args, options: all, strict: true, allowPositionals: true });
    return { values: values as ParsedValues, positionals };
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message.replace(/\. To specify.*$/s, '') : String(err));
  }
}

export function str(values: ParsedValues, name: string): string | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (Array.isArray(v)) return String(v[v.length - 1]);
  return String(v);
}

export function strs(values: ParsedValues, name: string): string[] {
  const v = values[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

export function flag(values: ParsedValues, name: string): boolean {
  return values[name] === true;
}

export function required(values: ParsedValues, name: string): string {
  const v = str(values, name);
  if (v === undefined || v === '') throw new UsageError(`Missing required argument "--${name}"`);
  return v;
}

export function intArg(values: ParsedValues, name: string): number | undefined {
  const v = str(values, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new UsageError(`Invalid value '${v}' for --${name}: expected an integer`);
  return n;
}

/**
 * `k=v` strings (repeatable flags, or comma-separated) into a map. As kafka-configs, a value in
 * square brackets may hold commas (`cleanup.policy=[compact,delete]`); the brackets are dropped.
 */
export function keyValues(items: readonly string[], what: string, splitCommas = true): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of items) {
    for (const part of splitCommas ? splitOutsideBrackets(item) : [item]) {
      if (part.trim() === '') continue;
      const i = part.indexOf('=');
      if (i <= 0) throw new UsageError(`Invalid ${what} '${part}': expected key=value`);
      const value = part.slice(i + 1);
      const bracketed = splitCommas && value.startsWith('[') && value.endsWith(']');
      out.set(part.slice(0, i).trim(), bracketed ? value.slice(1, -1) : value);
    }
  }
  return out;
}

function splitOutsideBrackets(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '[') depth++;
    else if (c === ']') depth = Math.max(0, depth - 1);
    else if (c === ',' && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts;
}

export function readPropertiesFile(path: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`Cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parseProperties(text);
}

/**
 * Client options from --bootstrap-server, --command-config (and extra property files or pairs,
 * later ones winning). A bootstrap server is required from one of them.
 */
export function clientOptions(values: ParsedValues, extra: { files?: string[]; props?: Map<string, string> } = {}): AnyClientOptions & { bootstrapServers: string } {
  const props = new Map<string, string>();
  const cc = str(values, 'command-config');
  if (cc !== undefined) for (const [k, v] of readPropertiesFile(cc)) props.set(k, v);
  for (const f of extra.files ?? []) for (const [k, v] of readPropertiesFile(f)) props.set(k, v);
  for (const [k, v] of extra.props ?? []) props.set(k, v);
  const bs = str(values, 'bootstrap-server');
  if (bs !== undefined) props.set('bootstrap.servers', bs);
  let opts: AnyClientOptions;
  try {
    opts = clientOptionsFromProperties(props);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (opts.bootstrapServers === undefined || opts.bootstrapServers === '') throw new UsageError('Missing required argument "--bootstrap-server"');
  // Tools should fail fast on an unreachable broker rather than retry for minutes.
  opts.retries ??= 5;
  opts.clientId ??= 'tributary-tools';
  return opts as AnyClientOptions & { bootstrapServers: string };
}

/** Runs a tool, turning failures into one line on stderr and an exit code. */
export async function runTool(name: string, usage: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${name}: ${err.message}\n${usage}`);
      process.exitCode = 2;
      return;
    }
    if (err instanceof ToolError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    const message = err instanceof KafkaError ? err.message : err instanceof Error ? err.message : String(err);
    process.stderr.write(`Error: ${message}\n`);
    if (process.env['TRIBUTARY_DEBUG'] !== undefined && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    process.exitCode = 1;
  }
}

/** Writes to stdout and waits for it to drain (large outputs piped to head etc.). */
export function out(text: string): Promise<void> | void {
  if (!process.stdout.write(text)) return new Promise((resolve) => process.stdout.once('drain', () => resolve()));
}

export function showHelp(values: ParsedValues, usage: string): boolean {
  if (!flag(values, 'help')) return false;
  process.stdout.write(usage);
  return true;
}
