// Kafka's ssl.principal.mapping.rules: how a client certificate's subject (RFC 2253, see
// x500-name.ts) becomes the name of its User: principal on an SSL listener. The value is a
// comma-separated list of `DEFAULT` (the name unchanged) and `RULE:pattern/replacement/` with an
// optional L or U after the last slash (lower- or upper-case the result). A `/` or `\` inside a
// pattern or replacement is escaped with a backslash, so commas may appear in patterns; empty
// entries are ignored. The first rule whose pattern matches the whole name wins; the
// replacement is applied as Java's String.replaceAll does ($n a group, \c the character c; a $n
// naming a group the pattern does not have is the literal text, as Kafka treats it). When no
// rule matches, authentication fails (Kafka's NoMatchingRule). Everything Kafka would refuse
// at start-up or on first use is refused when the configuration loads.
//
// Patterns are JavaScript regular expressions: the common Java syntax (classes, groups, lazy
// quantifiers, anchors, \w, named groups) means the same; Java-only syntax such as inline flags
// (?i) or possessive quantifiers is refused as invalid.

export class SslPrincipalMappingError extends Error {
  override readonly name = 'SslPrincipalMappingError';
}

type ReplacementPart = string | { readonly group: number } | { readonly name: string };

interface MappingRule {
  /** The rule as written, for messages. */
  readonly text: string;
  /** Null for DEFAULT. */
  readonly pattern: { readonly whole: RegExp; readonly everywhere: RegExp; readonly groupCount: number; readonly replacement: readonly ReplacementPart[]; readonly caseFold: 'L' | 'U' | '' } | null;
}

export interface SslPrincipalMapper {
  /** The principal name for `dn`, or null when no rule applies (authentication then fails). */
  map(dn: string): string | null;
  /** The rules in order, as written (empty entries dropped). */
  readonly rules: readonly string[];
}

/** Parses a `ssl.principal.mapping.rules` value; throws SslPrincipalMappingError saying which
 * rule is wrong and why. */
export function parseSslPrincipalMappingRules(value: string): SslPrincipalMapper {
  const rules = splitRules(value.trim()).map(compileRule);
  return {
    rules: rules.map((r) => r.text),
    map: (dn) => {
      for (const rule of rules) {
        const name = applyRule(rule, dn);
        if (name !== null) return name;
      }
      return null;
    },
  };
}

/** The problem with a rules value, or null when it parses (for config validation). */
export function sslPrincipalMappingRulesProblem(value: string): string | null {
  try {
    parseSslPrincipalMappingRules(value);
    return null;
  } catch (err) {
    if (err instanceof SslPrincipalMappingError) return err.message;
    throw err;
  }
}

interface RawRule {
  readonly text: string;
  readonly parts: { readonly pattern: string; readonly replacement: string; readonly caseFold: 'L' | 'U' | '' } | null;
}

/** Reads `pattern/` or `replacement/` from `pos`: text up to the first unescaped slash, escapes
 * kept (they are regex or replacement syntax); null when no slash ends it. */
function readDelimited(s: string, pos: number): { text: string; next: number } | null {
  let i = pos;
  while (i < s.length && s[i] !== '/') i += s[i] === '\\' ? 2 : 1;
  if (i >= s.length) return null;
  return { text: s.slice(pos, i), next: i + 1 };
}

function splitRules(value: string): RawRule[] {
  const out: RawRule[] = [];
  const untilComma = (from: number) => {
    const comma = value.indexOf(',', from);
    return value.slice(from, comma < 0 ? value.length : comma).trim();
  };
  let i = 0;
  const skipSpace = () => {
    while (i < value.length && /\s/.test(value[i]!)) i++;
  };
  while (i < value.length) {
    skipSpace();
    if (i >= value.length) break;
    if (value[i] === ',') {
      i++; // an empty entry
      continue;
    }
    const start = i;
    let parts: RawRule['parts'];
    if (value.startsWith('DEFAULT', i)) {
      i += 'DEFAULT'.length;
      parts = null;
    } else if (value.startsWith('RULE:', i)) {
      const pattern = readDelimited(value, i + 'RULE:'.length);
      const replacement = pattern === null ? null : readDelimited(value, pattern.next);
      if (pattern === null || replacement === null) throw new SslPrincipalMappingError(`Invalid rule: '${untilComma(start)}' (expected RULE:pattern/replacement/ with an optional L or U)`);
      i = replacement.next;
      const flag = value[i] === 'L' || value[i] === 'U' ? value[i]! : '';
      i += flag.length;
      parts = { pattern: pattern.text, replacement: replacement.text, caseFold: flag as 'L' | 'U' | '' };
    } else {
      throw new SslPrincipalMappingError(`Invalid rule: '${untilComma(start)}' (each rule is DEFAULT or RULE:pattern/replacement/[LU])`);
    }
    const text = value.slice(start, i);
    skipSpace();
    if (i < value.length && value[i] !== ',') {
      throw new SslPrincipalMappingError(`Invalid rule: '${text}${untilComma(i)}', unmatched text '${untilComma(i)}' after the rule`);
    }
    i++;
    out.push({ text, parts });
  }
  return out;
}

function compileRule(raw: RawRule): MappingRule {
  if (raw.parts === null) return { text: raw.text, pattern: null };
  const { pattern, replacement, caseFold } = raw.parts;
  let whole: RegExp;
  let everywhere: RegExp;
  let probe: RegExpExecArray;
  try {
    whole = new RegExp(`^(?:${pattern})$`);
    everywhere = new RegExp(pattern, 'g');
    // An alternative that matches the empty string reveals every group of the pattern.
    probe = new RegExp(`${pattern}|`).exec('')!;
  } catch (err) {
    throw new SslPrincipalMappingError(`Invalid rule: '${raw.text}': the pattern is not a valid regular expression (${(err as Error).message})`);
  }
  const groupCount = probe.length - 1;
  const groupNames = new Set(Object.keys(probe.groups ?? {}));
  return { text: raw.text, pattern: { whole, everywhere, groupCount, replacement: parseReplacement(raw.text, replacement, groupCount, groupNames), caseFold } };
}

/** Java's replacement syntax, with Kafka's reading of a $n beyond the pattern's groups. */
function parseReplacement(rule: string, s: string, groupCount: number, groupNames: ReadonlySet<string>): ReplacementPart[] {
  const parts: ReplacementPart[] = [];
  let literal = '';
  const fail = (why: string): never => {
    throw new SslPrincipalMappingError(`Invalid rule: '${rule}': ${why}`);
  };
  for (let i = 0; i < s.length; ) {
    const c = s[i]!;
    if (c === '\\') {
      if (i + 1 >= s.length) fail('the replacement ends with a lone backslash');
      literal += s[i + 1];
      i += 2;
    } else if (c === '$') {
      const next = s[i + 1];
      if (next === '{') {
        const close = s.indexOf('}', i + 2);
        const name = close < 0 ? '' : s.slice(i + 2, close);
        if (!/^[A-Za-z][A-Za-z0-9]*$/.test(name) || !groupNames.has(name)) fail(`the replacement names group '${name}', which the pattern does not have`);
        if (literal !== '') parts.push(literal);
        literal = '';
        parts.push({ name });
        i = close + 1;
      } else if (next !== undefined && next >= '0' && next <= '9') {
        let group = Number(next);
        if (group > groupCount) {
          // Kafka escapes such a reference to literal text; with no groups at all it does not,
          // and Java then fails every name the rule matches.
          if (groupCount === 0) fail(`the replacement refers to group ${group}, but the pattern has no groups`);
          literal += '$';
          i += 1;
          continue;
        }
        i += 2;
        // As Java: more digits extend the number while it still names a group.
        while (i < s.length && s[i]! >= '0' && s[i]! <= '9' && group * 10 + Number(s[i]) <= groupCount) {
          group = group * 10 + Number(s[i]);
          i++;
        }
        if (literal !== '') parts.push(literal);
        literal = '';
        parts.push({ group });
      } else {
        fail(`'$' in the replacement must be followed by a group number or {name} (escape it as \\$)`);
      }
    } else {
      literal += c;
      i++;
    }
  }
  if (literal !== '') parts.push(literal);
  return parts;
}

function applyRule(rule: MappingRule, dn: string): string | null {
  const p = rule.pattern;
  if (p === null) return dn;
  if (!p.whole.test(dn)) return null;
  // As Java's replaceAll: every match of the (unanchored) pattern is replaced.
  const result = dn.replace(p.everywhere, (match: string, ...rest: unknown[]) => {
    const groups = rest.slice(0, p.groupCount) as (string | undefined)[];
    const named = rest[p.groupCount + 2] as Record<string, string | undefined> | undefined;
    let out = '';
    for (const part of p.replacement) {
      if (typeof part === 'string') out += part;
      else if ('group' in part) out += (part.group === 0 ? match : groups[part.group - 1]) ?? '';
      else out += named?.[part.name] ?? '';
    }
    return out;
  });
  return p.caseFold === 'L' ? result.toLowerCase() : p.caseFold === 'U' ? result.toUpperCase() : result;
}
