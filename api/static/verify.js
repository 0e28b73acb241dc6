// The BindLedger verification page: sends a document to this server's verify endpoints and
// shows every check with its outcome. No external resources; no data leaves this server.
"use strict";

const $ = (id) => document.getElementById(id);

function endpointFor(doc) {
  if (doc && doc.format === "bindledger.timeline/1") return "/v1/verify/timeline";
  return "/v1/verify";
}

function row(record, check) {
  const tr = document.createElement("tr");
  let detail = check.detail || "";
  if (check.expected !== undefined) detail += ` — expected ${check.expected}, got ${check.actual}`;
  for (const [text, cls] of [[record, ""], [check.check, ""], [check.outcome, check.outcome], [detail, ""]]) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
  }
  tr.dataset.check = check.check;
  tr.dataset.outcome = check.outcome;
  return tr;
}

function show(result) {
  $("result").hidden = false;
  $("result").scrollIntoView();
  const body = $("checks").querySelector("tbody");
  body.replaceChildren();
  if (result.error) {
    $("verdict").textContent = "Cannot be read";
    $("verdict").className = "bad";
    $("reason").textContent = typeof result.detail === "string" ? result.detail : JSON.stringify(result.detail);
    return;
  }
  $("verdict").textContent = result.verified ? "VERIFIED" : "NOT VERIFIED";
  $("verdict").className = result.verified ? "ok" : "bad";
  $("reason").textContent = result.reason;
  if (result.entries) {
    body.appendChild(row("all", result.completeness));
    if (result.loan) body.appendChild(row("loan", result.loan));
    for (const entry of result.entries) {
      for (const check of entry.checks) body.appendChild(row(`#${entry.index} ${entry.type}`, check));
    }
  } else {
    for (const check of result.checks) body.appendChild(row("bundle", check));
  }
}

async function verifyText(text) {
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    show({ error: "NotJson", detail: `not JSON: ${err.message}` });
    return;
  }
  const response = await fetch(endpointFor(doc), {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: text,
  });
  show(await response.json());
}

async function lookup(event) {
  event.preventDefault();
  const kind = $("lookup-kind").value;
  const reference = $("reference").value.trim();
  const platform = $("platform").value.trim();
  // A subject has a timeline at each platform it has records at; a loan's id names its own.
  const query = kind === "subjects" && platform ? `?platform=${encodeURIComponent(platform)}` : "";
  const response = await fetch(`/v1/${kind}/${encodeURIComponent(reference)}/timeline${query}`, {
    headers: { "X-API-Key": $("api-key").value },
  });
  const body = await response.json();
  if (!response.ok) {
    show({ error: "LookupFailed", detail: `${response.status}: ${body.detail}` });
    return;
  }
  $("document").value = JSON.stringify(body, null, 2);
  await verifyText($("document").value);
}

// The platforms with anchored heads, offered in the platform field (any address may be typed).
async function offerPlatforms() {
  const response = await fetch("/v1/heads/latest");
  if (!response.ok) return;
  const { heads } = await response.json();
  const options = [...new Set(heads.map((head) => head.platform))].map((address) => {
    const option = document.createElement("option");
    option.value = address;
    return option;
  });
  $("platforms").replaceChildren(...options);
}

function readFile(file) {
  file.text().then((text) => {
    $("document").value = text;
    return verifyText(text);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer.files.length) readFile(e.dataTransfer.files[0]);
  });
  $("file").addEventListener("change", (e) => { if (e.target.files.length) readFile(e.target.files[0]); });
  $("verify").addEventListener("click", () => verifyText($("document").value));
  $("lookup-form").addEventListener("submit", lookup);
  offerPlatforms();
});
