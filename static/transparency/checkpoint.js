// The newest checkpoint, fetched as served (with the peers' cosignature lines), checked here: the
// portal's signature against its verifier key, each peer's cosignature against that peer's witness key.
import { verifyCosignature, verifyNote } from "../ledger/tlog.js";

const section = document.getElementById("checkpoint");

function show(node, ok, text) {
  node.textContent = ok ? `✓ ${text}` : `✗ ${text}`;
  node.classList.remove("ok", "bad");
  node.classList.add(ok ? "ok" : "bad");
}

async function safely(check) {
  try {
    return await check();
  } catch {
    return false;
  }
}

async function run() {
  const response = await fetch(section.dataset.checkpointUrl, { headers: { Accept: "text/plain" } });
  const note = await response.text();
  const split = note.lastIndexOf("\n\n");
  const body = note.slice(0, split + 1);
  const lines = note.slice(split + 2).split("\n").filter((line) => line !== "");
  const { ok, bad, missing } = section.dataset;
  const signed = await safely(() => verifyNote(note, section.dataset.key));
  show(section.querySelector('[data-result="signature"]'), signed, signed ? ok : bad);
  for (const row of section.querySelectorAll("[data-witness-key]")) {
    const key = row.dataset.witnessKey;
    const name = key.slice(0, key.indexOf("+"));
    const line = lines.find((l) => l.startsWith(`— ${name} `));
    const cell = row.querySelector('[data-result="cosignature"]');
    if (line === undefined) {
      show(cell, false, missing);
      continue;
    }
    const cosigned = await safely(() => verifyCosignature(body, line, key));
    show(cell, cosigned, cosigned ? ok : bad);
  }
  section.dataset.checked = "true";
}

const button = section && section.querySelector("[data-check-checkpoint]");
if (button) button.addEventListener("click", () => run().catch(() => {}));
