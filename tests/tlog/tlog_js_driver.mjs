// Runs static/ledger/tlog.js on a JSON list of cases from stdin; writes one verdict per case.
// A case is [function name, args]; {"hex": "..."} in args becomes a Uint8Array, lists stay lists.
// A verdict is {"ok": value} (bytes as {"hex": ...}) or {"error": message} when the call threw.
import * as tlog from "../../static/ledger/tlog.js";

const BATCH = 256; // calls in flight at once: WebCrypto runs them on Node's thread pool

function decode(value) {
  if (Array.isArray(value)) return value.map(decode);
  if (value !== null && typeof value === "object" && typeof value.hex === "string") {
    return Uint8Array.from(Buffer.from(value.hex, "hex"));
  }
  return value;
}

async function run([name, args]) {
  try {
    const ok = await tlog[name](...decode(args));
    return { ok: ok instanceof Uint8Array ? { hex: Buffer.from(ok).toString("hex") } : ok };
  } catch (err) {
    return { error: `${err?.name}: ${err?.message}` };
  }
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const cases = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const verdicts = [];
for (let i = 0; i < cases.length; i += BATCH) {
  verdicts.push(...(await Promise.all(cases.slice(i, i + BATCH).map(run))));
}
process.stdout.write(JSON.stringify({ exports: Object.keys(tlog).sort(), verdicts }));
