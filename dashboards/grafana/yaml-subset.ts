/**
 * A parser for the small YAML subset our Grafana provisioning files are written in — block mappings,
 * block sequences of mappings or scalars, plain/quoted scalars, `#` comments — so the tests can read
 * them without a YAML dependency. Anything outside the subset (flow collections, anchors, multi-line
 * strings, tabs) is an error, which keeps the files simple enough for this to be exact.
 */
export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

export class YamlSubsetError extends Error {
  constructor(line: number, detail: string) {
    super(`line ${line}: ${detail}`);
    this.name = 'YamlSubsetError';
  }
}

interface Line {
  no: number;
  indent: number;
  text: string;
}

function scalar(raw: string, no: number): YamlValue {
  const s = raw.trim();
  if (s === '' || s === '~' || s === 'null') return null;
  if (s === 'true' || s === 'false') return s === 'true';
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
  if (s.startsWith('"')) {
    if (!/^"([^"\\]|\\.)*"$/.test(s)) throw new YamlSubsetError(no, `bad double-quoted string ${s}`);
    return JSON.parse(s) as string;
  }
  if (s.startsWith("'")) {
    if (!/^'([^']|'')*'$/.test(s)) throw new YamlSubsetError(no, `bad single-quoted string ${s}`);
    return s.slice(1, -1).replace(/''/g, "'");
  }
  if (/^[[{&*!|>@`%]/.test(s)) throw new YamlSubsetError(no, `unsupported YAML syntax: ${s}`);
  return s;
}

/** Strips a trailing comment (a `#` after whitespace, outside quotes). */
function uncomment(text: string): string {
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '#' && (i === 0 || /\s/.test(text[i - 1]!))) return text.slice(0, i).trimEnd();
  }
  return text.trimEnd();
}

export function parseYamlSubset(source: string): YamlValue {
  const lines: Line[] = [];
  source.split('\n').forEach((raw, i) => {
    if (raw.includes('\t')) throw new YamlSubsetError(i + 1, 'tabs are not allowed');
    const text = uncomment(raw);
    if (text.trim() === '' || text.trim() === '---') return;
    lines.push({ no: i + 1, indent: text.length - text.trimStart().length, text: text.trim() });
  });
  let pos = 0;

  function block(indent: number): YamlValue {
    const first = lines[pos];
    if (!first || first.indent < indent) return null;
    return first.text.startsWith('- ') || first.text === '-' ? sequence(first.indent) : mapping(first.indent);
  }

  function mapping(indent: number, seed?: { key: string; rest: string; no: number }): { [key: string]: YamlValue } {
    const out: { [key: string]: YamlValue } = {};
    const entry = (key: string, rest: string, no: number) => {
      if (Object.prototype.hasOwnProperty.call(out, key)) throw new YamlSubsetError(no, `duplicate key "${key}"`);
      out[key] = rest === '' ? block(indent + 1) : scalar(rest, no);
    };
    if (seed) entry(seed.key, seed.rest, seed.no);
    while (pos < lines.length && lines[pos]!.indent === indent && !lines[pos]!.text.startsWith('- ')) {
      const l = lines[pos++]!;
      const m = /^([A-Za-z0-9_.$-]+):(?:\s+(.*))?$/.exec(l.text);
      if (!m) throw new YamlSubsetError(l.no, `expected "key: value", got ${l.text}`);
      entry(m[1]!, m[2] ?? '', l.no);
    }
    if (pos < lines.length && lines[pos]!.indent > indent) throw new YamlSubsetError(lines[pos]!.no, 'unexpected indentation');
    return out;
  }

  function sequence(indent: number): YamlValue[] {
    const out: YamlValue[] = [];
    while (pos < lines.length && lines[pos]!.indent === indent && (lines[pos]!.text.startsWith('- ') || lines[pos]!.text === '-')) {
      const l = lines[pos++]!;
      const rest = l.text.slice(1).trim();
      const m = /^([A-Za-z0-9_.$-]+):(?:\s+(.*))?$/.exec(rest);
      if (m) out.push(mapping(indent + 2, { key: m[1]!, rest: m[2] ?? '', no: l.no }));
      else if (rest === '') out.push(block(indent + 1));
      else out.push(scalar(rest, l.no));
    }
    return out;
  }

  const value = block(0);
  if (pos < lines.length) throw new YamlSubsetError(lines[pos]!.no, 'unexpected content');
  return value;
}
