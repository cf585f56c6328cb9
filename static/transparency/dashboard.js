// The dashboard's newest checkpoint, blocks and entries, refreshed without a reload.
const INTERVAL_MS = 5000;
const root = document.getElementById("checkpoint");

function cell(text, href) {
  const td = document.createElement("td");
  if (href) {
    const a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    td.append(a);
  } else {
    td.textContent = text;
  }
  return td;
}

function fill(tbody, rows) {
  if (!tbody || rows.length === 0) return;
  tbody.replaceChildren(...rows.map((cells) => {
    const tr = document.createElement("tr");
    tr.append(...cells);
    return tr;
  }));
}

function set(name, value) {
  const node = document.querySelector(`[data-live="${name}"]`);
  if (node && value !== undefined && node.textContent !== String(value)) node.textContent = value;
}

async function refresh() {
  const response = await fetch(root.dataset.latestUrl, { headers: { Accept: "application/json" } });
  if (!response.ok) return;
  const latest = await response.json();
  if (latest.checkpoint) {
    set("size", latest.checkpoint.size);
    set("root", latest.checkpoint.root);
    set("created", latest.checkpoint.created);
  }
  fill(document.querySelector('[data-live="blocks"]'), latest.blocks.map((b) => [
    cell(String(b.height), b.url), cell(String(b.count)), cell(String(b.tree_size)),
    cell(b.time),
  ]));
  fill(document.querySelector('[data-live="entries"]'), latest.entries.map((e) => {
    const ref = cell(e.ref);
    ref.className = "mono";
    return [cell(String(e.index), e.url), cell(e.kind_label), cell(e.created), ref];
  }));
  document.body.dataset.refreshed = String(Date.now());
}

if (root && root.dataset.latestUrl) {
  setInterval(() => refresh().catch(() => {}), INTERVAL_MS);
}
