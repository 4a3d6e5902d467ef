/// `GET /`: the operations page, one self-contained HTML file (no CDN: the machines
/// that run this have no internet). It holds no data: its script polls
/// `GET /api/overview` every two seconds (with the bearer token it asks for when the
/// server runs with `--auth`) and draws what the server says; the search box asks
/// `GET /api/order/<id>`, then `GET /api/sku/<id>`. `#search=<id>` in the address
/// opens a search. Every figure shown carries `data-field`, so a test can read it.
enum OperationsPage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Orderline operations</title>
<link rel="icon" href="data:,">
<style>
  :root { --bg:#f4f6f8; --card:#fff; --ink:#17202a; --muted:#5d6d7e; --line:#e3e8ee; --accent:#1f6feb; --ok:#1a7f37; --bad:#cf222e; --warn:#9a6700; }
  * { box-sizing: border-box; }
  body { margin:0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background:var(--bg); color:var(--ink); }
  header { display:flex; flex-wrap:wrap; align-items:center; gap:12px 20px; padding:14px 20px; background:#0d1b2a; color:#fff; }
  header h1 { font-size:18px; margin:0; font-weight:650; letter-spacing:.2px; }
  header .meta { display:flex; flex-wrap:wrap; gap:6px 18px; color:#c9d6e3; font-size:13px; }
  header .meta b { color:#fff; font-variant-numeric: tabular-nums; }
  .pill { padding:2px 10px; border-radius:999px; font-weight:600; font-size:12px; text-transform:uppercase; letter-spacing:.5px; }
  .pill.ready { background:#d2f4dc; color:var(--ok); } .pill.failed { background:#ffd8d3; color:var(--bad); } .pill.loading { background:#fff1c2; color:var(--warn); }
  main { padding:16px 20px 40px; display:grid; gap:16px; grid-template-columns: repeat(auto-fit, minmax(min(300px, 100%), 1fr)); max-width:1400px; margin:0 auto; }
  .card { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:14px 16px; min-width:0; }
  .card h2 { font-size:13px; text-transform:uppercase; letter-spacing:.6px; color:var(--muted); margin:0 0 10px; font-weight:650; }
  .wide { grid-column: 1 / -1; }
  @media (min-width: 960px) { .span2 { grid-column: span 2; } }
  .tiles { display:grid; gap:12px; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); }
  .tile { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:12px 14px; }
  .tile .label { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.5px; }
  .tile .value { font-size:26px; font-weight:650; font-variant-numeric: tabular-nums; margin-top:2px; }
  .tile .unit { font-size:13px; color:var(--muted); font-weight:500; margin-left:3px; }
  table { width:100%; border-collapse:collapse; font-variant-numeric: tabular-nums; }
  th, td { text-align:left; padding:5px 6px; border-bottom:1px solid var(--line); white-space:nowrap; }
  th { color:var(--muted); font-weight:600; font-size:12px; }
  td.num, th.num { text-align:right; }
  .scroll { overflow-x:auto; }
  .bar { display:flex; align-items:center; gap:8px; margin:4px 0; }
  .bar .name { width:130px; color:var(--muted); font-size:12px; }
  .bar .track { display:block; flex:1; background:#eef2f6; border-radius:4px; height:12px; overflow:hidden; }
  .bar .fill { display:block; background:var(--accent); height:100%; }
  .bar .count { width:60px; text-align:right; font-variant-numeric: tabular-nums; }
  svg text { font-size:10px; fill:var(--muted); }
  .legend { display:flex; gap:14px; font-size:12px; color:var(--muted); margin-top:4px; }
  .legend i { display:inline-block; width:10px; height:3px; margin-right:5px; vertical-align:middle; }
  form.search { display:flex; gap:8px; }
  form.search input { flex:1; min-width:0; padding:8px 10px; border:1px solid var(--line); border-radius:6px; font-size:14px; }
  button { padding:8px 14px; border:0; border-radius:6px; background:var(--accent); color:#fff; font-weight:600; cursor:pointer; }
  .banner { grid-column:1 / -1; background:#fff8e1; border:1px solid #f0d98c; color:#6b4e00; border-radius:10px; padding:10px 14px; }
  .banner.bad { background:#ffebe9; border-color:#ffb8b0; color:#82071e; }
  .muted { color:var(--muted); }
  a.sku { color:var(--accent); cursor:pointer; text-decoration:none; }
  #result h3 { margin:12px 0 6px; font-size:14px; }
  #login { display:none; }
  @media (max-width: 600px) { header { padding:12px; } main { padding:12px; gap:12px; } .tile .value { font-size:22px; } .bar .name { width:100px; } }
</style>
</head>
<body>
<header>
  <h1>Orderline</h1>
  <span id="status" class="pill loading" data-field="status">loading</span>
  <div class="meta">
    <span>role <b data-field="role">–</b></span>
    <span>LSN <b data-field="lsn">–</b></span>
    <span>durable <b data-field="durable_lsn">–</b></span>
    <span>clients <b data-field="clients">–</b></span>
  </div>
</header>
<main>
  <div id="login" class="card wide">
    <h2>Token</h2>
    <form class="search" id="login-form"><input id="token" type="password" placeholder="a token of an admin, ops or viewer role" autocomplete="off"><button>Open</button></form>
  </div>
  <div id="banner" class="banner" hidden></div>
  <section class="wide tiles">
    <div class="tile"><div class="label">Throughput</div><div class="value"><span data-field="throughput">–</span><span class="unit">req/s</span></div></div>
    <div class="tile"><div class="label">p99 latency</div><div class="value"><span data-field="p99">–</span><span class="unit">ms</span></div></div>
    <div class="tile"><div class="label">Carts and holds</div><div class="value" data-field="reservations_held">–</div></div>
    <div class="tile"><div class="label">Orders</div><div class="value" data-field="orders_total">–</div></div>
  </section>
  <section class="card wide">
    <h2>Throughput and p99, last two minutes</h2>
    <svg id="chart" width="100%" height="160" role="img" aria-label="throughput and p99 latency over time"></svg>
    <div class="legend"><span><i style="background:#1f6feb"></i>requests/s</span><span><i style="background:#bf3989"></i>p99 ms</span></div>
  </section>
  <section class="card">
    <h2>Write-ahead log</h2>
    <table>
      <tr><td>state</td><td class="num" data-field="wal_state">–</td></tr>
      <tr><td>not yet durable</td><td class="num"><span data-field="wal_lag">–</span> events</td></tr>
      <tr><td>fsyncs</td><td class="num"><span data-field="fsyncs_per_second">–</span>/s (<span data-field="fsyncs">–</span> in all)</td></tr>
      <tr><td>events per fsync</td><td class="num" data-field="group_size">–</td></tr>
      <tr><td>slowest fsync</td><td class="num"><span data-field="fsync_max">–</span> ms (<span data-field="fsyncs_slow">–</span> over 10 ms)</td></tr>
      <tr><td>compression</td><td class="num"><span data-field="compression">–</span>×</td></tr>
      <tr><td>on disk</td><td class="num" data-field="wal_bytes">–</td></tr>
    </table>
  </section>
  <section class="card">
    <h2>Hottest SKUs</h2>
    <div class="scroll"><table><thead><tr><th>SKU</th><th class="num">held</th><th class="num">ATP</th></tr></thead><tbody id="hot"></tbody></table></div>
    <p class="muted" id="hot-none" hidden>No carts or holds right now.</p>
  </section>
  <section class="card">
    <h2>Orders by status</h2>
    <div id="statuses"></div>
  </section>
  <section class="card wide">
    <h2>KPIs by channel</h2>
    <div class="scroll"><table><thead><tr><th>channel</th><th class="num">orders</th><th class="num">fulfilled</th><th class="num">perfect</th><th class="num">returned</th><th class="num">cycle p50</th><th class="num">oversold</th></tr></thead><tbody id="kpis"></tbody></table></div>
  </section>
  <section class="card">
    <h2>Work queues</h2>
    <div class="scroll"><table><thead><tr><th>node</th><th class="num">shipments to work</th></tr></thead><tbody id="queues"></tbody></table></div>
    <p class="muted" id="queues-none" hidden>No shipment waits at any node.</p>
  </section>
  <section class="card span2">
    <h2>Find a SKU or an order</h2>
    <form class="search" id="search-form"><input id="query" placeholder="SKU-000001 or W-1001" autocomplete="off" spellcheck="false"><button>Find</button></form>
    <div id="result"></div>
  </section>
</main>
<script>
"use strict";
const samples = [];
let previous = null;
let token = sessionStorage.getItem("orderline-token") || "";

const $ = (selector) => document.querySelector(selector);
const setField = (name, value) => { for (const element of document.querySelectorAll(`[data-field="${name}"]`)) element.textContent = value; };
const number = (value) => Number(value).toLocaleString("en-US");
const escapeHTML = (text) => String(text).replace(/[&<>"']/g, (c) => ({"&":"&amp;","<":"&lt;",">":"&gt;","\"":"&quot;","'":"&#39;"})[c]);
const percent = (value) => value == null ? "–" : (100 * value).toFixed(1) + " %";
const bytes = (value) => value >= 1 << 30 ? (value / (1 << 30)).toFixed(2) + " GiB" : value >= 1 << 20 ? (value / (1 << 20)).toFixed(1) + " MiB" : (value / 1024).toFixed(1) + " KiB";

async function api(path) {
  const response = await fetch(path, { headers: token ? { Authorization: "Bearer " + token } : {} });
  if (response.status === 401 || response.status === 403) {
    $("#login").style.display = "block";
    throw new Error("a token of a reading role is needed");
  }
  return { status: response.status, body: await response.json() };
}

// The p99 of the requests answered between two polls, from the latency buckets' counts.
function p99(now, before) {
  const counts = now.latency.counts.map((count, i) => Number(count) - (before ? Number(before.latency.counts[i]) : 0));
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i];
    if (seen >= 0.99 * total) return i < now.latency.le_us.length ? Number(now.latency.le_us[i]) / 1000 : Infinity;
  }
  return null;
}

function drawChart() {
  const svg = $("#chart");
  // Drawn in the SVG's own pixels, so that lines and labels are never stretched.
  const width = Math.max(200, svg.clientWidth), height = 160, top = 22, bottom = 150;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const rates = samples.map((h) => h.rate), latencies = samples.map((h) => h.p99 ?? 0);
  const rateMax = Math.max(1, ...rates), latencyMax = Math.max(1, ...latencies.filter(Number.isFinite));
  const x = (i) => samples.length < 2 ? width : (i * width) / 59;
  const line = (values, max) => values.map((v, i) => `${x(i).toFixed(1)},${(bottom - (Math.min(v, max) / max) * (bottom - top)).toFixed(1)}`).join(" ");
  svg.innerHTML =
    `<line x1="0" y1="${bottom}" x2="${width}" y2="${bottom}" stroke="#e3e8ee"/>` +
    `<polyline fill="none" stroke="#1f6feb" stroke-width="2" points="${line(rates, rateMax)}"/>` +
    `<polyline fill="none" stroke="#bf3989" stroke-width="1.5" stroke-dasharray="4 3" points="${line(latencies, latencyMax)}"/>` +
    `<text x="4" y="16">${number(Math.round(rateMax))} req/s</text>` +
    `<text x="${width - 4}" y="16" text-anchor="end">${latencyMax.toFixed(2)} ms</text>`;
}

function render(o) {
  const status = $("#status");
  status.className = "pill " + o.status;
  setField("status", o.status);
  if (o.status === "loading") return;
  setField("role", o.role);
  setField("lsn", number(o.lsn));
  setField("durable_lsn", number(o.durable_lsn));
  setField("clients", number(o.clients));
  setField("reservations_held", number(o.reservations_held));
  const statuses = Object.entries(o.orders_by_status);
  setField("orders_total", number(statuses.reduce((sum, [, count]) => sum + count, 0)));
  const banner = $("#banner");
  if (o.status === "failed") { banner.hidden = false; banner.className = "banner bad"; banner.textContent = o.reason; }
  else if (o.setup_missing !== "none") { banner.hidden = false; banner.className = "banner"; banner.textContent = "Before an order can ship: " + o.setup_missing; }
  else banner.hidden = true;

  const seconds = previous ? (o.at - previous.at) / 1000 : 0;
  const rate = seconds > 0 ? Math.max(0, (o.requests - previous.requests) / seconds) : 0;
  const latency = p99(o, previous);
  setField("throughput", previous ? number(Math.round(rate)) : "–");
  setField("p99", latency == null ? "–" : Number.isFinite(latency) ? latency.toFixed(2) : "> 5000");
  if (previous) { samples.push({ rate, p99: latency }); if (samples.length > 60) samples.shift(); drawChart(); }

  setField("wal_state", o.wal.failed ? "failed" : "writing");
  setField("wal_lag", number(o.lsn - o.durable_lsn));
  setField("fsyncs", number(o.wal.fsyncs));
  setField("fsyncs_per_second", previous && seconds > 0 ? number(Math.round((o.wal.fsyncs - previous.wal.fsyncs) / seconds)) : "–");
  setField("group_size", o.wal.frames > 0 ? (o.wal.events / o.wal.frames).toFixed(1) : "–");
  setField("fsync_max", (o.wal.fsync_max_us / 1000).toFixed(2));
  setField("fsyncs_slow", number(o.wal.fsyncs_over_10ms));
  setField("compression", o.wal.bytes > 0 ? (o.wal.raw_bytes / o.wal.bytes).toFixed(2) : "–");
  setField("wal_bytes", bytes(o.wal.bytes));

  $("#hot").innerHTML = o.hot_skus.map((s) =>
    `<tr><td><a class="sku" data-sku="${escapeHTML(s.sku)}">${escapeHTML(s.sku)}</a></td><td class="num" data-field="held:${escapeHTML(s.sku)}">${number(s.held)}</td><td class="num">${number(s.atp)}</td></tr>`).join("");
  $("#hot-none").hidden = o.hot_skus.length > 0;
  const most = Math.max(1, ...statuses.map(([, count]) => count));
  $("#statuses").innerHTML = statuses.map(([name, count]) =>
    `<div class="bar"><span class="name">${escapeHTML(name.replaceAll("_", " "))}</span><span class="track"><span class="fill" style="width:${(100 * count / most).toFixed(1)}%"></span></span><span class="count" data-field="status:${escapeHTML(name)}">${number(count)}</span></div>`).join("");
  $("#kpis").innerHTML = o.kpis.map((k) => {
    const channel = k.channel ?? "all";
    return `<tr><td>${escapeHTML(channel)}</td><td class="num" data-field="kpi:${escapeHTML(channel)}:orders">${number(k.orders)}</td><td class="num">${percent(k.fulfillment_rate)}</td><td class="num">${percent(k.perfect_order_rate)}</td><td class="num">${percent(k.return_rate)}</td><td class="num">${k.cycle_time_p50_s == null ? "–" : number(k.cycle_time_p50_s) + " s"}</td><td class="num">${number(k.oversell_count)}</td></tr>`;
  }).join("");
  $("#queues").innerHTML = o.queues.filter((q) => q.shipments > 0).map((q) =>
    `<tr><td>${escapeHTML(q.node)}</td><td class="num" data-field="queue:${escapeHTML(q.node)}">${number(q.shipments)}</td></tr>`).join("");
  $("#queues-none").hidden = o.queues.some((q) => q.shipments > 0);
  previous = o;
}

async function poll() {
  try {
    const { body } = await api("/api/overview");
    body.at = Date.now();
    render(body);
  } catch (error) {
    if (!String(error).includes("token")) { $("#status").className = "pill failed"; setField("status", "unreachable"); }
  }
}

function table(headers, rows) {
  return `<div class="scroll"><table><thead><tr>${headers.map((h) => `<th>${escapeHTML(h)}</th>`).join("")}</tr></thead><tbody>` +
    rows.map((row) => `<tr>${row.map((cell) => `<td>${escapeHTML(cell ?? "–")}</td>`).join("")}</tr>`).join("") + "</tbody></table></div>";
}

function showOrder(order, explain) {
  let html = `<h3>Order <span data-field="order:id">${escapeHTML(order.id)}</span>: <span data-field="order:status">${escapeHTML(order.status)}</span></h3>`;
  html += `<p class="muted">${escapeHTML(order.channel)} · customer ${escapeHTML(order.customer)} · total ${(order.total / 100).toFixed(2)} · promised ${escapeHTML(order.promised_date)}</p>`;
  html += table(["SKU", "qty", "allocated", "shipped", "backordered", "returned"], order.lines.map((l) => [l.sku, l.qty, l.allocated, l.shipped, l.backordered, l.returned]));
  html += `<h3>Shipments</h3>` + (order.shipments.length ? table(["shipment", "node", "status", "carrier", "tracking"],
    order.shipments.map((s) => [s.id, s.node, s.status, s.carrier ? s.carrier + " " + s.service : s.mode, s.tracking])) : `<p class="muted">none</p>`);
  if (order.holds.length) html += `<h3>Holds</h3>` + table(["hold", "reason"], order.holds.map((h) => [h.type, h.reason]));
  if (order.returns.length) html += `<h3>Returns</h3>` + table(["return", "node", "status", "refund"], order.returns.map((r) => [r.id, r.node, r.status, (r.refund / 100).toFixed(2)]));
  html += `<h3>Routing: <span data-field="explain:rule">${escapeHTML(explain.rule)}</span></h3>`;
  html += table(["node", "km", "cost", "service", "days", "why not"], explain.candidates.map((c) =>
    [c.node, c.distance_km, c.cost, c.carrier ? c.carrier + " " + c.service : null, c.transit_days, c.excluded ?? (c.has_every_line ? "" : "lacks a line")]));
  $("#result").innerHTML = html;
}

function showSKU(sku, stock) {
  let html = `<h3>SKU <span data-field="sku:id">${escapeHTML(sku.id)}</span>: ${escapeHTML(sku.name || "")}</h3>`;
  html += `<p class="muted">price ${(sku.price / 100).toFixed(2)} · network ATP <b data-field="sku:atp">${number(stock.atp)}</b> · carts hold ${number(stock.network_reserved)}</p>`;
  html += table(["node", "on hand", "reserved", "allocated", "safety", "in transit", "ATP"],
    stock.nodes.map((n) => [n.node, n.on_hand, n.reserved, n.allocated, n.safety, n.in_transit, n.atp]));
  $("#result").innerHTML = html;
}

async function search(query) {
  query = query.trim();
  if (!query) return;
  $("#query").value = query;
  const id = encodeURIComponent(query);
  try {
    const order = await api("/api/order/" + id);
    if (order.status === 200) return showOrder(order.body.order, order.body.explain);
    const sku = await api("/api/sku/" + id);
    if (sku.status === 200) return showSKU(sku.body.sku, sku.body.stock);
    $("#result").innerHTML = `<p class="muted" data-field="search:none">No order or SKU is called ${escapeHTML(query)}.</p>`;
  } catch (error) {
    $("#result").innerHTML = `<p class="muted">${escapeHTML(error.message)}</p>`;
  }
}

$("#search-form").addEventListener("submit", (event) => { event.preventDefault(); location.hash = "search=" + encodeURIComponent($("#query").value.trim()); });
$("#hot").addEventListener("click", (event) => { const sku = event.target.dataset.sku; if (sku) location.hash = "search=" + encodeURIComponent(sku); });
$("#login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  token = $("#token").value;
  sessionStorage.setItem("orderline-token", token);
  $("#login").style.display = "none";
  poll();
});
const searchFromHash = () => {
  const match = location.hash.match(/^#search=(.*)$/);
  if (!match) return;
  let query = match[1];
  try { query = decodeURIComponent(query); } catch { /* not percent-encoded: taken as it is */ }
  search(query);
};
window.addEventListener("hashchange", searchFromHash);
poll();
setInterval(poll, 2000);
searchFromHash();
</script>
</body>
</html>
"""#
}
