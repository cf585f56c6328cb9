// Gongxin ledger verification in the visitor's browser: RFC 9162 proofs, C2SP signed notes
// (golang.org/x/mod/sumdb/note key strings) and C2SP tlog-cosignature cosignature/v1.
//
// A port of ledger/tlog (merkle.py, note.py, checkpoint.py); tests/tlog/test_tlog_js.py runs both
// on the same published vectors and generated cases and requires the same verdict for each.
// WebCrypto only (SHA-256, Ed25519): no dependencies, no build step.
//
// Verdicts: true when the proof or signature checks out, false when it does not; malformed input
// (wrong types, hash lengths, bounds, proof lengths, note or key syntax) throws an Error saying why.

const HASH_SIZE = 32;
const MAX_SIGNATURES = 100; // as Go's note.Open
const SIG_PREFIX = "\u2014 "; // em dash, space
const ALG_ED25519 = 0x01;
const ALG_COSIGNATURE_V1 = 0x04;
const MAX_TIMESTAMP = (1n << 63n) - 1n;
const MAX_UINT64 = (1n << 64n) - 1n;
// Go's unicode.IsSpace: the Unicode White_Space property.
const SPACES = new Set(
  "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009" +
    "\u200a\u2028\u2029\u202f\u205f\u3000",
);
const HASH8 = /^[0-9a-fA-F]{8}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

const subtle = globalThis.crypto.subtle;
const utf8 = new TextEncoder();

// -- bytes ------------------------------------------------------------------------------------

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

async function sha256(...parts) {
  return new Uint8Array(await subtle.digest("SHA-256", concat(...parts)));
}

function b64encode(bytes) {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64_ALPHABET[(n >> 18) & 63] + B64_ALPHABET[(n >> 12) & 63];
    out += i + 1 < bytes.length ? B64_ALPHABET[(n >> 6) & 63] : "=";
    out += i + 2 < bytes.length ? B64_ALPHABET[n & 63] : "=";
  }
  return out;
}

// Standard base64 with padding, canonical only (re-encodes to the same text), as note.py reads it.
function b64decodeStrict(text, what) {
  if (typeof text !== "string" || !BASE64.test(text)) throw new Error(`${what} is not base64`);
  const body = text.replace(/=+$/, "");
  const out = new Uint8Array(Math.floor((body.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let at = 0;
  for (const c of body) {
    acc = (acc << 6) | B64_ALPHABET.indexOf(c);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (acc >> bits) & 0xff;
    }
  }
  if (b64encode(out) !== text) throw new Error(`${what} is not canonical base64`);
  return out;
}

// -- RFC 9162 §2.1 Merkle trees ---------------------------------------------------------------

function checkHash(what, value) {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array`);
  if (value.length !== HASH_SIZE) {
    throw new RangeError(`${what} is ${value.length} bytes, want ${HASH_SIZE}`);
  }
}

// Sizes and indexes arrive as numbers; the arithmetic is on BigInt since JS bit operators are 32-bit.
function checkSize(what, value) {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${what} must be a non-negative safe integer, not ${String(value)}`);
  }
  return BigInt(value);
}

function checkProof(proof, want, what) {
  if (!Array.isArray(proof)) throw new TypeError(`${what} must be an array of Uint8Array`);
  if (BigInt(proof.length) !== want) {
    throw new RangeError(`${what} has ${proof.length} hashes, want ${want}`);
  }
  proof.forEach((p, i) => checkHash(`${what}[${i}]`, p));
}

function bitLength(n) {
  return n === 0n ? 0n : BigInt(n.toString(2).length);
}

function popCount(n) {
  return BigInt(n.toString(2).replaceAll("0", "").length);
}

function nodeHash(left, right) {
  return sha256(Uint8Array.of(1), left, right);
}

/** RFC 9162 §2.1.1 leaf hash: SHA-256(0x00 || data). */
export async function leafHash(data) {
  if (!(data instanceof Uint8Array)) throw new TypeError("leaf data must be a Uint8Array");
  return sha256(Uint8Array.of(0), data);
}

/** RFC 9162 §2.1.3.2: does `proof` show leaf `index` (its hash `leafHash`) in the tree `root` of `size`? */
export async function verifyInclusion(leafHash, index, size, proof, root) {
  const m = checkSize("index", index);
  const n = checkSize("tree size", size);
  checkHash("leaf hash", leafHash);
  checkHash("root", root);
  if (m >= n) throw new RangeError(`index ${index} is not below tree size ${size}`);
  const inner = bitLength(m ^ (n - 1n));
  checkProof(proof, inner + popCount(m >> inner), "inclusion proof");
  let fn = m;
  let sn = n - 1n;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0n) return false;
    if (fn & 1n || fn === sn) {
      r = await nodeHash(p, r);
      while (!(fn & 1n) && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && equalBytes(r, root);
}

// How many hashes PROOF(m, D[n]) has (RFC 9162 §2.1.4.1), for 0 < m < n.
function consistencyProofSize(m, n) {
  let count = 0n;
  let size = n;
  let b = true;
  while (m !== size) {
    const k = 1n << (bitLength(size - 1n) - 1n);
    if (m <= k) {
      size = k;
    } else {
      m -= k;
      size -= k;
      b = false;
    }
    count += 1n;
  }
  return b ? count : count + 1n;
}

/** RFC 9162 §2.1.4.2: does `proof` show the tree `oldRoot` of `oldSize` is a prefix of `newRoot`? */
export async function verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof) {
  const m = checkSize("old size", oldSize);
  const n = checkSize("new size", newSize);
  checkHash("old root", oldRoot);
  checkHash("new root", newRoot);
  if (m > n) throw new RangeError(`old size ${oldSize} is larger than new size ${newSize}`);
  // As RFC 6962 clients: size 0 is a prefix of any tree, equal sizes need equal roots.
  if (m === 0n || m === n) {
    checkProof(proof, 0n, "consistency proof");
    return m === 0n || equalBytes(oldRoot, newRoot);
  }
  checkProof(proof, consistencyProofSize(m, n), "consistency proof");
  // Step 2: an old tree that is a perfect subtree is not in the proof; its root starts it.
  const path = (m & (m - 1n)) === 0n ? [oldRoot, ...proof] : proof;
  let fn = m - 1n;
  let sn = n - 1n;
  while (fn & 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) return false;
    if (fn & 1n || fn === sn) {
      [fr, sr] = await Promise.all([nodeHash(c, fr), nodeHash(c, sr)]);
      while (!(fn & 1n) && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && equalBytes(fr, oldRoot) && equalBytes(sr, newRoot);
}

// -- C2SP signed-note ---------------------------------------------------------------------------

// Well-formed UTF-16 (no lone surrogate), so the text has a UTF-8 encoding to sign.
function isWellFormed(text) {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = text.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false;
    }
  }
  return true;
}

function checkText(text, what) {
  if (typeof text !== "string") throw new TypeError(`${what} must be a string`);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && c !== 0x0a) throw new Error(`malformed note: ${what} has control character ${c}`);
  }
  if (!isWellFormed(text)) throw new Error(`malformed note: ${what} is not valid UTF-8`);
}

// Non-empty, no Unicode space and no '+' (signed-note §Format).
function isValidName(name) {
  if (typeof name !== "string" || name === "" || name.includes("+") || !isWellFormed(name)) {
    return false;
  }
  for (const c of name) if (SPACES.has(c)) return false;
  return true;
}

async function keyHash(name, key) {
  const h = await sha256(utf8.encode(name), Uint8Array.of(0x0a), key);
  return new DataView(h.buffer).getUint32(0);
}

// `<name>+<hash8hex>+<base64(type || key)>` with the hash checked: { name, hash, key }.
async function parseVerifierKey(vkey) {
  if (typeof vkey !== "string") throw new TypeError("verifier key must be a string");
  const first = vkey.indexOf("+");
  const second = vkey.indexOf("+", first + 1);
  if (first < 0 || second < 0) throw new Error("malformed verifier key: want <name>+<hash>+<key>");
  const name = vkey.slice(0, first);
  const hash8 = vkey.slice(first + 1, second);
  if (!isValidName(name) || !HASH8.test(hash8)) throw new Error("malformed verifier key");
  const key = b64decodeStrict(vkey.slice(second + 1), "verifier key");
  if (key.length === 0) throw new Error("malformed verifier key: empty key");
  const hash = Number.parseInt(hash8, 16);
  if (hash !== (await keyHash(name, key))) throw new Error("verifier key hash does not match");
  return { name, hash, key };
}

function ed25519Key(key) {
  if (key.length !== 33) throw new Error("malformed verifier key: Ed25519 key is not 32 bytes");
  return key.subarray(1);
}

async function ed25519Verify(publicKey, signature, message) {
  const key = await subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
  return subtle.verify({ name: "Ed25519" }, key, signature, message);
}

// (text, signature lines) of a syntactically valid note, as Go's note.Open reads it; nothing verified.
function parseNote(note) {
  checkText(note, "note");
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw new Error("malformed note: no blank line before the signatures");
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block === "" || !block.endsWith("\n")) {
    throw new Error("malformed note: no signature lines, or the last one lacks its newline");
  }
  const lines = block.slice(0, -1).split("\n");
  if (lines.length > MAX_SIGNATURES) throw new Error(`malformed note: more than ${MAX_SIGNATURES} signatures`);
  const signatures = lines.map((line) => {
    if (!line.startsWith(SIG_PREFIX)) throw new Error("malformed note: signature line without em dash");
    const rest = line.slice(SIG_PREFIX.length);
    const space = rest.indexOf(" ");
    const name = rest.slice(0, space);
    const b64 = rest.slice(space + 1);
    if (space < 0 || b64 === "" || !isValidName(name)) throw new Error("malformed note: bad signature line");
    const raw = b64decodeStrict(b64, `signature of ${name}`);
    if (raw.length < 5) throw new Error(`malformed note: signature of ${name} is too short`);
    return { name, hash: new DataView(raw.buffer).getUint32(0), signature: raw.subarray(4) };
  });
  return { text, signatures };
}

/** C2SP signed-note: is `note` signed by the Ed25519 key `verifierKey` (Go's key string form)? */
export async function verifyNote(note, verifierKey) {
  const { name, hash, key } = await parseVerifierKey(verifierKey);
  if (key[0] !== ALG_ED25519) throw new Error(`unknown verifier algorithm ${key[0]}`);
  const publicKey = ed25519Key(key);
  const { text, signatures } = parseNote(note);
  // Other keys' signatures are ignored and a key's repeats are dropped, as Go's note.Open does.
  const sig = signatures.find((s) => s.name === name && s.hash === hash);
  if (sig === undefined || sig.signature.length !== 64) return false;
  return ed25519Verify(publicKey, sig.signature, utf8.encode(text));
}

// -- C2SP tlog-checkpoint and tlog-cosignature --------------------------------------------------

// The body must be a C2SP checkpoint in canonical form, as checkpoint.py's parse_checkpoint says.
function checkCheckpoint(body) {
  if (typeof body !== "string" || !body.endsWith("\n")) {
    throw new Error("checkpoint body must end in a newline");
  }
  const lines = body.slice(0, -1).split("\n");
  if (lines.length < 3) throw new Error(`checkpoint body has ${lines.length} lines, needs at least 3`);
  const [origin, size, root, ...extensions] = lines;
  if (origin === "") throw new Error("checkpoint origin line is empty");
  if (!DECIMAL.test(size) || BigInt(size) > MAX_UINT64) {
    throw new Error("checkpoint tree size is not a uint64 decimal");
  }
  if (b64decodeStrict(root, "checkpoint root hash").length !== HASH_SIZE) {
    throw new Error(`checkpoint root hash is not ${HASH_SIZE} bytes`);
  }
  if (extensions.includes("")) throw new Error("checkpoint extension line is empty");
  for (const line of [origin, ...extensions]) {
    if (/[\x00-\x1f]/.test(line)) throw new Error("checkpoint line has a control character");
  }
}

/** C2SP tlog-cosignature: is `cosignatureLine` a cosignature/v1 of `checkpointBody` by `witnessKey`? */
export async function verifyCosignature(checkpointBody, cosignatureLine, witnessKey) {
  const { name, key } = await parseVerifierKey(witnessKey);
  // A plain Ed25519 (0x01) key of the same public key is accepted, as transparency-dev/formats does.
  if (key[0] !== ALG_COSIGNATURE_V1 && key[0] !== ALG_ED25519) {
    throw new Error(`unknown cosigner algorithm ${key[0]}`);
  }
  const publicKey = ed25519Key(key);
  const hash = await keyHash(name, concat(Uint8Array.of(ALG_COSIGNATURE_V1), publicKey));
  if (typeof cosignatureLine !== "string") throw new TypeError("cosignature line must be a string");
  const line = cosignatureLine.endsWith("\n") ? cosignatureLine.slice(0, -1) : cosignatureLine;
  if (line.includes("\n")) throw new Error("cosignature line must be one line");
  checkCheckpoint(checkpointBody);
  const { text, signatures } = parseNote(`${checkpointBody}\n${line}\n`);
  if (text !== checkpointBody || signatures.length !== 1) throw new Error("malformed cosignature line");
  const sig = signatures[0];
  if (sig.name !== name || sig.hash !== hash || sig.signature.length !== 8 + 64) return false;
  const time = new DataView(sig.signature.buffer, sig.signature.byteOffset).getBigUint64(0);
  if (time > MAX_TIMESTAMP) return false;
  const message = utf8.encode(`cosignature/v1\ntime ${time}\n${checkpointBody}`);
  return ed25519Verify(publicKey, sig.signature.subarray(8), message);
}
