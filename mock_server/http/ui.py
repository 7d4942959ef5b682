"""``GET /_mock/ui``: a small dashboard of what the mock holds and what it saw.

One HTML page, no build step and no outside assets: it reads the control plane
(``/_mock/stores``, ``/_mock/stores/{H}/faults``, ``/_mock/journal``) every second and
shows the stores with their counts, tokens, rate limits and faults in force, and the
live request journal with each rejection's reason; each store has a reset button. With
an admin token, open it as ``/_mock/ui?admin_token=T``: the page sends the token as the
control plane's header on every call it makes.
"""

from __future__ import annotations

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Segmentation mock</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d1d1f; }
  h1 { font-size: 1.3rem; margin: 0 0 .2rem; } h2 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
  table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .25rem .5rem; vertical-align: top; }
  th { border-bottom: 2px solid #ccc; } td { border-bottom: 1px solid #eee; }
  .s2 { color: #1a7f37; } .s4 { color: #9a6700; } .s5 { color: #cf222e; font-weight: 600; }
  code { font-size: 12px; } .muted { color: #6e7781; } button { cursor: pointer; }
</style>
</head>
<body>
<h1>Segmentation mock</h1>
<div class="muted" id="status">connecting…</div>
<h2>Stores</h2>
<table id="stores"><thead><tr><th>store</th><th>segments</th><th>shopper profiles</th><th>customers</th>
<th>promotions</th><th>tokens</th><th>rate limit</th><th>faults</th><th></th></tr></thead><tbody></tbody></table>
<h2>Requests <span class="muted">(newest first)</span></h2>
<table id="journal"><thead><tr><th>#</th><th>time</th><th>store</th><th>request</th><th>status</th><th>operation</th>
<th>ms</th><th>why refused</th></tr></thead><tbody></tbody></table>
<script>
const token = new URLSearchParams(location.search).get("admin_token");
const headers = token ? {"X-Mock-Admin-Token": token} : {};
const text = (value) => String(value ?? "").replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));
async function call(method, path) {
  const response = await fetch("/_mock" + path, {method, headers});
  if (!response.ok) throw new Error(method + " " + path + ": " + response.status);
  return response.json();
}
function faultsText(faults) {
  const parts = [];
  if (faults.latency_ms) parts.push("latency " + faults.latency_ms.join("-") + " ms");
  for (const forced of faults.responses || []) parts.push(forced.method + " " + forced.path + " → " + forced.status);
  if (faults.concurrency_limit) parts.push("concurrency limit");
  return parts.join("; ") || "none";
}
async function refresh() {
  try {
    const {stores} = await call("GET", "/stores");
    const rows = await Promise.all(stores.map(async (store) => {
      const faults = await call("GET", "/stores/" + encodeURIComponent(store.store_hash) + "/faults");
      const c = store.counts || {};
      const limit = store.rate_limit;
      return "<tr><td><code>" + text(store.store_hash) + "</code></td><td>" + text(c.segments) + "</td><td>" + text(c.shopper_profiles) +
        "</td><td>" + text(c.customers) + "</td><td>" + text(c.promotions) + "</td><td>" +
        store.tokens.map((t) => "<code>" + text(t.token) + "</code> " + text(t.scope)).join("<br>") + "</td><td>" +
        text(limit.quota) + " / " + text(limit.window_ms) + " ms" + (limit.enforce ? " (enforced)" : "") + "</td><td>" +
        text(faultsText(faults)) + "</td><td><button data-reset=\\"" + text(store.store_hash) + "\\">reset</button></td></tr>";
    }));
    document.querySelector("#stores tbody").innerHTML = rows.join("");
    const {entries} = await call("GET", "/journal?limit=50");
    document.querySelector("#journal tbody").innerHTML = entries.map((e) => {
      const why = e.rejected ? text(e.rejected.title) + (e.rejected.errors ? " <code>" + text(JSON.stringify(e.rejected.errors)) + "</code>" : "") : "";
      return "<tr><td>" + e.seq + "</td><td>" + new Date(e.time * 1000).toLocaleTimeString() + "</td><td><code>" + text(e.store_hash) +
        "</code></td><td><code>" + text(e.method) + " " + text(e.path) + (e.query ? "?" + text(e.query) : "") + "</code>" +
        (e.unscoped_delete ? " <strong>unscoped delete</strong>" : "") + "</td><td class=\\"s" + String(e.status)[0] + "\\">" + e.status +
        "</td><td>" + text(e.operation) + "</td><td>" + text(e.duration_ms) + "</td><td>" + why + "</td></tr>";
    }).join("");
    document.getElementById("status").textContent = "live · " + stores.length + " store(s) · updated " + new Date().toLocaleTimeString();
  } catch (error) {
    document.getElementById("status").textContent = "cannot read the control plane: " + error.message;
  }
}
document.addEventListener("click", async (event) => {
  const store = event.target.dataset && event.target.dataset.reset;
  if (store) { await call("POST", "/reset?store_hash=" + encodeURIComponent(store)); refresh(); }
});
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
"""
