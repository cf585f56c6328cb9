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

// Charts of the counts kept at seal time (/api/ledger/stats), drawn with the vendored Chart.js.
const COLOURS = ["#b3261e", "#1d4ed8", "#1b7f3b", "#a16207", "#7c3aed", "#0e7490", "#be185d", "#4b5563"];

function dayLabel(iso) {
  const lang = document.documentElement.lang || "zh-hans";
  return new Intl.DateTimeFormat(lang, { month: "numeric", day: "numeric", timeZone: "UTC" })
    .format(new Date(`${iso}T00:00:00Z`));
}

function stacked(canvas, days, series) {
  return new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: days.map(dayLabel),
      datasets: series.map((s, i) => ({ label: s.label, data: s.counts, backgroundColor: COLOURS[i % COLOURS.length] })),
    },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
}

async function charts(section) {
  const response = await fetch(section.dataset.statsUrl, { headers: { Accept: "application/json" } });
  if (!response.ok) return;
  const stats = await response.json();
  if (window.Chart) {
    stacked(document.getElementById("chart-kind"), stats.days, stats.by_kind);
    stacked(document.getElementById("chart-office"), stats.days, stats.by_office);
  }
  fill(section.querySelector('[data-live="totals"]'), [...stats.by_kind, ...stats.by_office].map((s) => [
    cell(s.label), cell(String(s.counts.reduce((a, b) => a + b, 0))),
  ]));
  section.dataset.drawn = "true";
}

const chartSection = document.getElementById("charts");
if (chartSection) charts(chartSection).catch(() => {});
