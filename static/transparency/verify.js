// "Verify in my browser": the entry, its inclusion proof and the signed checkpoint, fetched from the
// public API and checked here with static/ledger/tlog.js (WebCrypto), step by step.
import { leafHash, verifyInclusion, verifyNote } from "../ledger/tlog.js";

const decode = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const encode = (bytes) => btoa(String.fromCharCode(...bytes));
const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

async function fetchOk(url, as) {
  const response = await fetch(url, { headers: { Accept: as === "json" ? "application/json" : "text/plain" } });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return as === "json" ? response.json() : response.text();
}

// The body of a checkpoint note: origin, tree size, root hash (each a line), before the blank line.
function checkpointHead(note) {
  const [origin, size, root] = note.slice(0, note.indexOf("\n\n")).split("\n");
  if (!/^(0|[1-9][0-9]*)$/.test(size || "")) throw new Error("checkpoint has no tree size line");
  return { origin, size: Number(size), root: decode(root) };
}

function mark(step, ok, detail) {
  step.classList.remove("ok", "bad");
  step.classList.add(ok ? "ok" : "bad");
  step.querySelector("[data-result]").textContent = ok ? `✓ ${step.dataset.ok}` : `✗ ${step.dataset.bad}`;
  step.querySelector("[data-detail]").textContent = detail || "";
}

async function run(section) {
  const steps = Object.fromEntries([...section.querySelectorAll("[data-step]")].map((li) => [li.dataset.step, li]));
  const verdict = section.querySelector("[data-verdict]");
  for (const li of Object.values(steps)) {
    li.classList.remove("ok", "bad");
    li.querySelector("[data-result]").textContent = "";
    li.querySelector("[data-detail]").textContent = "";
  }
  verdict.className = "verdict";
  verdict.textContent = section.dataset.running;
  const index = Number(section.dataset.index);
  let current = "leaf";
  try {
    const entry = await fetchOk(section.dataset.entryUrl, "json");
    const leaf = await leafHash(decode(entry.data));
    const leafOk = equal(leaf, decode(entry.leaf_hash)) && entry.index === index;
    mark(steps.leaf, leafOk, encode(leaf));
    if (!leafOk) throw new Error("leaf");

    current = "inclusion";
    const note = await fetchOk(section.dataset.checkpointUrl, "text");
    const head = checkpointHead(note);
    const query = new URLSearchParams({ index: String(index), size: String(head.size) });
    const proof = await fetchOk(`${section.dataset.proofUrl}?${query}`, "json");
    const included = await verifyInclusion(leaf, index, head.size, proof.proof.map(decode), head.root);
    mark(steps.inclusion, included, `${head.size} · ${encode(head.root)}`);
    if (!included) throw new Error("inclusion");

    current = "signature";
    const signed = await verifyNote(note, section.dataset.key);
    mark(steps.signature, signed, section.dataset.key);
    if (!signed) throw new Error("signature");
    verdict.classList.add("ok");
    verdict.textContent = section.dataset.pass;
  } catch (error) {
    const step = steps[current];
    if (!step.classList.contains("bad")) mark(step, false, String(error.message || error));
    verdict.classList.add("bad");
    const name = step.cloneNode(true);
    name.querySelectorAll("[data-result], [data-detail]").forEach((node) => node.remove());
    verdict.textContent = `${section.dataset.fail} ${name.textContent.trim()}`;
  }
}

for (const section of document.querySelectorAll("[data-verify]")) {
  section.querySelector("[data-verify-button]").addEventListener("click", () => run(section));
}
