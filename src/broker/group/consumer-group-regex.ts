// Regex subscriptions of the consumer group protocol (ConsumerGroupHeartbeat v1,
// SubscribedTopicRegex). Kafka compiles them with RE2/J and matches whole topic names
// (`Pattern.matcher(name).matches()`), in time linear in the name. JavaScript's backtracking
// engine can take exponential time on patterns such as `(a+)+b`, so the patterns are compiled
// with V8's linear-time engine (the `l` flag, behind --enable-experimental-regexp-engine): like
// RE2 it refuses backreferences and lookaround, which RE2 has not either. Where that engine is
// missing, patterns are still compiled, with a shorter length bound.
//
// RE2 spellings JavaScript lacks are translated: `(?P<name>` groups, `\A` / `\z`, and leading
// inline flags `(?i)` / `(?s)`; Unicode classes (`\p{L}`) are refused. Everything else is JavaScript syntax, which for the patterns
// topic subscriptions use (`prefix-.*`, `[a-z]+-\d+`, `(orders|payments)\..*`) is RE2's.
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--enable-experimental-regexp-engine');

/** Whether this V8 has the linear-time engine (it rejects the `l` flag otherwise). */
const LINEAR_ENGINE = (() => {
  try {
    new RegExp('a', 'l');
    return true;
  } catch {
    return false;
  }
})();

/** Longest pattern accepted; with the backtracking engine only (no linear engine), less. */
export const MAX_TOPIC_REGEX_LENGTH = LINEAR_ENGINE ? 16_384 : 1_024;

/** Compiled patterns kept; past this the cache starts over (distinct patterns are few). */
const MAX_CACHED_PATTERNS = 1_024;
/** Match results kept per pattern; past this they start over. */
const MAX_CACHED_MATCHES = 100_000;

export type TopicRegexCompiled = { ok: true; regex: RegExp } | { ok: false; message: string };

const isLetter = (c: string): boolean => /^[a-zA-Z]$/.test(c);
const swapCase = (c: string): string => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase());

/**
 * `(?i)` for the linear engine, which has no `i` flag: every ASCII letter outside a class becomes
 * a class of both cases, and each class gets the other case of its letters and letter ranges.
 */
function foldCase(body: string): string {
  let out = '';
  let inClass = false;
  let classExtra = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\') {
      const next = body[i + 1] ?? '';
      out += c + next;
      i++;
      // \p{..} (and \u{..}) are copied whole; \d, \w, \x41 have no letter to fold.
      if ((next === 'p' || next === 'P' || next === 'u') && body[i + 1] === '{') {
        const close = body.indexOf('}', i);
        if (close > i) {
          out += body.slice(i + 1, close + 1);
          i = close;
        }
      }
      continue;
    }
    if (!inClass && body.startsWith('(?<', i) && body[i + 3] !== '=' && body[i + 3] !== '!') {
      // A named group: its name is not folded.
      const close = body.indexOf('>', i);
      if (close > i) {
        out += body.slice(i, close + 1);
        i = close;
        continue;
      }
    }
    if (inClass) {
      if (c === ']') {
        out += classExtra + c;
        inClass = false;
        classExtra = '';
      } else if (isLetter(c) && body[i + 1] === '-' && isLetter(body[i + 2] ?? '')) {
        const end = body[i + 2]!;
        out += `${c}-${end}`;
        classExtra += `${swapCase(c)}-${swapCase(end)}`;
        i += 2;
      } else {
        out += c;
        if (isLetter(c)) classExtra += swapCase(c);
      }
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      if (body[i + 1] === '^') out += body[++i];
      if (body[i + 1] === ']') out += body[++i];
      continue;
    }
    out += isLetter(c) ? `[${c}${swapCase(c)}]` : c;
  }
  return out;
}

function translate(source: string): { body: string; flags: string } {
  let body = source;
  let flags = '';
  const leading = /^\(\?([is]+)\)/.exec(body);
  if (leading !== null) {
    flags = [...new Set(leading[1]!)].join('');
    body = body.slice(leading[0].length);
  }
  // `\A` and `\z` only when the backslash is not itself escaped.
  body = body.replace(/(?<!\\)((?:\\\\)*)\\A/g, '$1^').replace(/(?<!\\)((?:\\\\)*)\\z/g, '$1$');
  body = body.replace(/\(\?P</g, '(?<');
  if (LINEAR_ENGINE && flags.includes('i')) {
    body = foldCase(body);
    flags = flags.replace('i', '');
  }
  return { body, flags };
}

/**
 * Lookaround and backreferences, which RE2 has not. Checked here rather than left to the linear
 * engine: newer V8 versions (Node 24) accept some lookbehinds in it.
 */
function re2Unsupported(source: string): string | null {
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      const next = source[i + 1] ?? '';
      if (!inClass && (/[1-9]/.test(next) || (next === 'k' && source[i + 2] === '<'))) return 'backreferences are not supported';
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      if (source[i + 1] === '^') i++;
      if (source[i + 1] === ']') i++;
      continue;
    }
    if (c === '(' && source[i + 1] === '?' && (source[i + 2] === '=' || source[i + 2] === '!' || (source[i + 2] === '<' && (source[i + 3] === '=' || source[i + 3] === '!')))) {
      return 'lookahead and lookbehind are not supported';
    }
  }
  return null;
}

/** Compiles a SubscribedTopicRegex with whole-name semantics, or says why it is invalid. */
export function compileTopicRegex(source: string): TopicRegexCompiled {
  const invalid = (why: string): TopicRegexCompiled => ({ ok: false, message: `SubscribedTopicRegex \`${source}\` is not a valid regular expression: ${why}.` });
  if (source.length > MAX_TOPIC_REGEX_LENGTH) return invalid(`longer than ${MAX_TOPIC_REGEX_LENGTH} characters`);
  // Without the `u` flag (the linear engine has none) JavaScript reads \p{L} as the letters p{L}.
  if (/(?<!\\)(?:\\\\)*\\[pP]/.test(source)) return invalid('Unicode classes (\\p{...}) are not supported');
  const unsupported = re2Unsupported(source);
  if (unsupported !== null) return invalid(unsupported);
  const { body, flags } = translate(source);
  try {
    return { ok: true, regex: new RegExp(`^(?:${body})$`, LINEAR_ENGINE ? `${flags}l` : flags) };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // V8: "Invalid regular expression: /<pattern>/<flags>: <reason>"
    const reason = message.slice(message.lastIndexOf(': ') + 2);
    return invalid(reason === 'Cannot be executed in linear time' ? 'backreferences, lookaround and very large repetitions are not supported' : reason);
  }
}

/**
 * Matches topic names against patterns, remembering compiled patterns and each name's result,
 * so re-resolving a group's regexes on every heartbeat costs a lookup per topic, not a match.
 */
export class TopicRegexMatcher {
  private readonly compiled = new Map<string, RegExp | null>();
  private readonly matches = new Map<string, Map<string, boolean>>();

  /** The compiled pattern, or null when it is invalid (validated at the heartbeat already). */
  regex(source: string): RegExp | null {
    let re = this.compiled.get(source);
    if (re === undefined) {
      const c = compileTopicRegex(source);
      re = c.ok ? c.regex : null;
      if (this.compiled.size >= MAX_CACHED_PATTERNS) {
        this.compiled.clear();
        this.matches.clear();
      }
      this.compiled.set(source, re);
    }
    return re;
  }

  matchesTopic(source: string, topic: string): boolean {
    const re = this.regex(source);
    if (re === null) return false;
    let results = this.matches.get(source);
    if (results === undefined) {
      results = new Map();
      this.matches.set(source, results);
    }
    let hit = results.get(topic);
    if (hit === undefined) {
      hit = re.test(topic);
      if (results.size >= MAX_CACHED_MATCHES) results.clear();
      results.set(topic, hit);
    }
    return hit;
  }
}
