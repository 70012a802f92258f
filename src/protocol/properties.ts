// Java .properties text (server.properties, client.properties), as java.util.Properties reads it,
// for the broker's configuration and the tools' client settings alike:
//   - `#` or `!` as the first non-blank character starts a comment line;
//   - a line ending in an odd number of backslashes continues on the next line, whose leading
//     blanks are dropped;
//   - the key ends at the first unescaped `=`, `:` or blank; blanks, then one `=` or `:`, then
//     blanks separate it from the value;
//   - escapes in keys and values: \t \n \r \f, \uXXXX, and a backslash before any other character
//     stands for that character (`\=`, `\:`, `\ `, `\\`).
// One difference: trailing blanks of a value are dropped (Java keeps them). Hand-edited files
// often have them, and every typed Kafka config trims its value anyway.

const BLANK = /[ \t\f]/;

export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.replace(/^[ \t\f]+/, '');
    if (line === '' || line[0] === '#' || line[0] === '!') continue;
    while (endsInOddBackslashes(line) && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i]!.replace(/^[ \t\f]+/, '');
    if (endsInOddBackslashes(line)) line = line.slice(0, -1);
    const [key, value] = splitKeyValue(line);
    out.set(unescape(key), unescape(value).replace(/[ \t\f]+$/, ''));
  }
  return out;
}

function endsInOddBackslashes(line: string): boolean {
  let n = 0;
  for (let i = line.length - 1; i >= 0 && line[i] === '\\'; i--) n++;
  return n % 2 === 1;
}

/** The raw (still escaped) key and value of a logical line. */
function splitKeyValue(line: string): [string, string] {
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (c === '=' || c === ':' || BLANK.test(c)) break;
    i++;
  }
  const key = line.slice(0, Math.min(i, line.length));
  let j = i;
  while (j < line.length && BLANK.test(line[j]!)) j++;
  if (j < line.length && (line[j] === '=' || line[j] === ':')) j++;
  while (j < line.length && BLANK.test(line[j]!)) j++;
  return [key, line.slice(j)];
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { t: '\t', n: '\n', r: '\r', f: '\f' };

function unescape(s: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\' || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const next = s[++i]!;
    if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 1, i + 5))) {
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 5), 16));
      i += 4;
    } else {
      out += SIMPLE_ESCAPES[next] ?? next;
    }
  }
  return out;
}
