// A strict JSON reader for evidence documents (docs/spec/README.md, conformance of documents).
// JSON.parse is not used: it rounds integers beyond 2^53 (amounts, times) and keeps the last of
// two members with the same name, where the specification refuses the document.

export const MAX_DEPTH = 32; // nesting of arrays and objects, as the specification bounds it

/** A document that is not well-formed JSON, or breaks a conformance rule: "cannot read". */
export class CannotReadError extends Error {
  constructor(message) {
    super(message);
    this.name = "CannotReadError";
  }
}

/** A JSON number with a fraction or exponent: kept apart so an integer member can refuse it. */
export class JsonFraction {
  constructor(text) {
    this.text = text;
  }
}

const WS = new Set([" ", "\t", "\n", "\r"]);
const PLAIN = /"([^"\\\u0000-\u001f]*)"/y;
const NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

/** Parse `text`; integers become BigInt, other numbers JsonFraction. Throws CannotReadError. */
export function parseJson(text) {
  let i = 0;
  const fail = (what) => {
    throw new CannotReadError(`not JSON: ${what} at character ${i}`);
  };
  const skip = () => {
    while (i < text.length && WS.has(text[i])) i++;
  };
  const expect = (word, value) => {
    if (text.startsWith(word, i)) {
      i += word.length;
      return value;
    }
    return fail("unexpected token");
  };
  function string() {
    PLAIN.lastIndex = i;
    const plain = PLAIN.exec(text); // most strings (hex, names) have no escapes: one step
    if (plain) {
      i = PLAIN.lastIndex;
      return plain[1];
    }
    i++; // the opening quote
    let out = "";
    for (;;) {
      if (i >= text.length) fail("unterminated string");
      const c = text[i];
      if (c === '"') {
        i++;
        return out;
      }
      if (c < " ") fail("control character in string");
      if (c !== "\\") {
        out += c;
        i++;
        continue;
      }
      const e = text[i + 1];
      const simple = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
      if (e in simple) {
        out += simple[e];
        i += 2;
      } else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
        out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
        i += 6;
      } else {
        fail("bad escape");
      }
    }
  }
  function number() {
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) fail("bad number");
    i = NUMBER.lastIndex;
    return m[2] || m[3] ? new JsonFraction(m[0]) : BigInt(m[0]);
  }
  function value(depth) {
    skip();
    const c = text[i];
    if (c === "{" || c === "[") {
      if (depth >= MAX_DEPTH) throw new CannotReadError(`document nests deeper than ${MAX_DEPTH} levels`);
      return c === "{" ? object(depth + 1) : array(depth + 1);
    }
    if (c === '"') return string();
    if (c === "t") return expect("true", true);
    if (c === "f") return expect("false", false);
    if (c === "n") return expect("null", null);
    if (c === "-" || (c >= "0" && c <= "9")) return number();
    return fail(i >= text.length ? "unexpected end" : "unexpected token");
  }
  function object(depth) {
    i++;
    const out = Object.create(null);
    skip();
    if (text[i] === "}") {
      i++;
      return out;
    }
    for (;;) {
      skip();
      if (text[i] !== '"') fail("expected a member name");
      const key = string();
      if (Object.prototype.hasOwnProperty.call(out, key)) {
        throw new CannotReadError(`member ${JSON.stringify(key)} appears twice`);
      }
      skip();
      if (text[i] !== ":") fail("expected ':'");
      i++;
      out[key] = value(depth);
      skip();
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] === "}") {
        i++;
        return out;
      }
      fail("expected ',' or '}'");
    }
  }
  function array(depth) {
    i++;
    const out = [];
    skip();
    if (text[i] === "]") {
      i++;
      return out;
    }
    for (;;) {
      out.push(value(depth));
      skip();
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] === "]") {
        i++;
        return out;
      }
      fail("expected ',' or ']'");
    }
  }
  const doc = value(0);
  skip();
  if (i !== text.length) fail("trailing characters");
  return doc;
}
