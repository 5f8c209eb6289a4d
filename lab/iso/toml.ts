// A small, strict TOML reader for answer files (our own code, written from the TOML 1.0 spec).
// Supported: comments, [table] / [a."b".c] headers, bare/quoted/dotted keys, basic and literal
// one-line strings, integers (returned as bigint, so int vs float survives), floats, booleans,
// arrays (multi-line, trailing comma) and inline tables. Anything else (multi-line strings,
// dates, arrays of tables) is refused with a TomlError naming the line — never guessed at.

export type TomlValue = string | bigint | number | boolean | TomlValue[] | TomlTable;
export interface TomlTable {
  [key: string]: TomlValue;
}

export class TomlError extends Error {
  constructor(message: string, readonly line: number) {
    super(`line ${line}: ${message}`);
    this.name = 'TomlError';
  }
}

export const isTable = (v: TomlValue | undefined): v is TomlTable =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const BARE = /[A-Za-z0-9_-]/;
const ESCAPES: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', '"': '"', '\\': '\\' };

class Reader {
  pos = 0;
  line = 1;
  /** Tables opened by a [header], created by dotted keys, or written inline (sealed). */
  private readonly headed = new WeakSet<TomlTable>();
  private readonly dotted = new WeakSet<TomlTable>();
  private readonly sealed = new WeakSet<TomlTable>();
  constructor(private readonly s: string) {}

  fail(msg: string): never {
    throw new TomlError(msg, this.line);
  }
  peek(o = 0): string {
    return this.s[this.pos + o] ?? '';
  }
  ws(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }
  /** Skips blanks, comments and newlines (inside arrays / between statements). */
  wsNl(): void {
    for (;;) {
      this.ws();
      const c = this.peek();
      if (c === '#') this.comment();
      else if (c === '\n' || (c === '\r' && this.peek(1) === '\n')) this.newline();
      else return;
    }
  }
  comment(): void {
    while (this.pos < this.s.length && this.peek() !== '\n' && this.peek() !== '\r') {
      const code = this.s.charCodeAt(this.pos);
      if ((code < 0x20 && code !== 9) || code === 0x7f) this.fail('control character in a comment');
      this.pos++;
    }
  }
  newline(): void {
    if (this.peek() === '\r') this.pos++;
    if (this.peek() !== '\n') this.fail('expected a new line');
    this.pos++;
    this.line++;
  }
  endOfStatement(): void {
    this.ws();
    if (this.peek() === '#') this.comment();
    if (this.pos >= this.s.length) return;
    if (this.peek() !== '\n' && this.peek() !== '\r') this.fail(`unexpected "${this.peek()}" after a value`);
    this.newline();
  }

  parse(): TomlTable {
    const root: TomlTable = {};
    let current = root;
    for (;;) {
      this.wsNl();
      if (this.pos >= this.s.length) return root;
      if (this.peek() === '[') {
        if (this.peek(1) === '[') this.fail('arrays of tables ([[...]]) are not supported');
        this.pos++;
        this.ws();
        const path = this.key();
        this.ws();
        if (this.peek() !== ']') this.fail('expected "]" to close the table header');
        this.pos++;
        current = this.openHeader(root, path);
      } else {
        this.keyValue(current);
      }
      this.endOfStatement();
    }
  }

  private openHeader(root: TomlTable, path: string[]): TomlTable {
    let t = root;
    path.forEach((k, i) => {
      const last = i === path.length - 1;
      const v = t[k];
      if (v === undefined) {
        const n: TomlTable = {};
        t[k] = n;
        t = n;
      } else if (isTable(v) && !this.sealed.has(v)) {
        if (last && (this.headed.has(v) || this.dotted.has(v))) this.fail(`table [${path.join('.')}] is defined twice`);
        t = v;
      } else this.fail(`[${path.join('.')}]: "${k}" is already a value`);
    });
    this.headed.add(t);
    return t;
  }

  private keyValue(table: TomlTable): void {
    const path = this.key();
    this.ws();
    if (this.peek() !== '=') this.fail(`expected "=" after key "${path.join('.')}"`);
    this.pos++;
    this.ws();
    const value = this.value();
    let t = table;
    for (const k of path.slice(0, -1)) {
      const v = t[k];
      if (v === undefined) {
        const n: TomlTable = {};
        this.dotted.add(n);
        t[k] = n;
        t = n;
      } else if (isTable(v) && !this.sealed.has(v) && !this.headed.has(v)) t = v;
      else this.fail(`key "${path.join('.')}": "${k}" is already defined`);
    }
    const last = path[path.length - 1]!;
    if (Object.hasOwn(t, last)) this.fail(`duplicate key "${path.join('.')}"`);
    t[last] = value;
  }

  /** A possibly dotted key: bare, "basic" or 'literal' parts. */
  key(): string[] {
    const parts: string[] = [];
    for (;;) {
      const c = this.peek();
      if (c === '"') parts.push(this.basicString());
      else if (c === "'") parts.push(this.literalString());
      else {
        const start = this.pos;
        while (BARE.test(this.peek())) this.pos++;
        if (start === this.pos) this.fail(c ? `unexpected "${c}" where a key should be` : 'a key is missing');
        parts.push(this.s.slice(start, this.pos));
      }
      this.ws();
      if (this.peek() !== '.') return parts;
      this.pos++;
      this.ws();
    }
  }

  value(): TomlValue {
    const c = this.peek();
    if (c === '"') {
      if (this.s.startsWith('"""', this.pos)) this.fail('multi-line strings are not supported');
      return this.basicString();
    }
    if (c === "'") {
      if (this.s.startsWith("'''", this.pos)) this.fail('multi-line strings are not supported');
      return this.literalString();
    }
    if (c === '[') return this.array();
    if (c === '{') return this.inlineTable();
    const m = /^[^\s,\]}#]+/.exec(this.s.slice(this.pos));
    if (!m) this.fail(c ? `unexpected "${c}" where a value should be` : 'a value is missing');
    const tok = m[0];
    this.pos += tok.length;
    if (tok === 'true') return true;
    if (tok === 'false') return false;
    if (/^[+-]?(0|[1-9](_?\d)*)$/.test(tok)) return BigInt(tok.replace(/_/g, ''));
    if (/^0x[0-9A-Fa-f](_?[0-9A-Fa-f])*$|^0o[0-7](_?[0-7])*$|^0b[01](_?[01])*$/.test(tok)) return BigInt(tok.replace(/_/g, ''));
    if (/^[+-]?(0|[1-9](_?\d)*)(\.\d(_?\d)*)?([eE][+-]?\d(_?\d)*)?$/.test(tok)) return Number(tok.replace(/_/g, ''));
    if (/^[+-]?(inf|nan)$/.test(tok)) return tok.endsWith('nan') ? NaN : tok.startsWith('-') ? -Infinity : Infinity;
    if (/^\d{4}-\d{2}-\d{2}/.test(tok)) this.fail('dates and times are not supported');
    return this.fail(`"${tok}" is not a TOML value (strings need quotes)`);
  }

  basicString(): string {
    this.pos++; // opening quote
    let out = '';
    for (;;) {
      const c = this.peek();
      if (c === '' || c === '\n' || c === '\r') this.fail('unterminated string');
      this.pos++;
      if (c === '"') return out;
      if (c === '\\') {
        const e = this.peek();
        this.pos++;
        const simple = ESCAPES[e];
        if (simple !== undefined) out += simple;
        else if (e === 'u' || e === 'U') {
          const n = e === 'u' ? 4 : 8;
          const hex = this.s.slice(this.pos, this.pos + n);
          if (!new RegExp(`^[0-9A-Fa-f]{${n}}$`).test(hex)) this.fail(`bad \\${e} escape`);
          const cp = parseInt(hex, 16);
          if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) this.fail(`\\${e}${hex} is not a Unicode scalar value`);
          out += String.fromCodePoint(cp);
          this.pos += n;
        } else this.fail(`unknown escape "\\${e}"`);
      } else {
        const code = c.charCodeAt(0);
        if ((code < 0x20 && code !== 9) || code === 0x7f) this.fail('control character in a string');
        out += c;
      }
    }
  }

  literalString(): string {
    const end = this.s.indexOf("'", this.pos + 1);
    const nl = this.s.slice(this.pos + 1, end < 0 ? undefined : end).search(/[\r\n]/);
    if (end < 0 || nl >= 0) this.fail('unterminated literal string');
    const out = this.s.slice(this.pos + 1, end);
    this.pos = end + 1;
    return out;
  }

  array(): TomlValue[] {
    this.pos++;
    const out: TomlValue[] = [];
    for (;;) {
      this.wsNl();
      if (this.peek() === ']') {
        this.pos++;
        return out;
      }
      out.push(this.value());
      this.wsNl();
      if (this.peek() === ',') this.pos++;
      else if (this.peek() !== ']') this.fail('expected "," or "]" in an array');
    }
  }

  inlineTable(): TomlTable {
    this.pos++;
    const t: TomlTable = {};
    this.ws();
    if (this.peek() === '}') {
      this.pos++;
      this.sealed.add(t);
      return t;
    }
    for (;;) {
      this.ws();
      this.keyValue(t);
      this.ws();
      if (this.peek() === ',') this.pos++;
      else if (this.peek() === '}') {
        this.pos++;
        this.sealed.add(t);
        return t;
      } else this.fail('expected "," or "}" in an inline table');
    }
  }
}

/** Parses TOML text; throws TomlError (with the line) on anything malformed or unsupported. */
export function parseToml(text: string): TomlTable {
  return new Reader(text.startsWith('\uFEFF') ? text.slice(1) : text).parse();
}
