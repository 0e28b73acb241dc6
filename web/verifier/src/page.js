// The /verify page. Two ways to check a document: send it to this BindLedger server's verify
// endpoints, or check it here in the browser against a JSON-RPC node the user chooses, which
// trusts no BindLedger server at all. The standalone copy (verify-standalone.html, one file that
// works opened from disk) has only the second.
import { verifyAgainstNode } from "./index.js";

const $ = (id) => document.getElementById(id);
const standalone = () => document.body.dataset.standalone === "true";
const mode = () => (standalone() ? "node" : document.querySelector("input[name=mode]:checked").value);

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

function verdictLine(text, cls, reason) {
  $("verdict").textContent = text;
  $("verdict").className = cls;
  $("reason").textContent = reason;
}

function show(result) {
  $("result").hidden = false;
  $("result").scrollIntoView();
  const body = $("checks").querySelector("tbody");
  body.replaceChildren();
  $("checks").hidden = !(result.checks || result.entries); // no table when nothing was checked
  if (result.error || result.cannotRead) {
    const detail = result.cannotRead || result.detail;
    verdictLine("Cannot be read", "bad", typeof detail === "string" ? detail : JSON.stringify(detail));
    return;
  }
  if (result.cannotCheck) {
    // The node did not answer: nothing is concluded about the document, least of all "invalid".
    verdictLine("CANNOT CHECK", "unknown", result.cannotCheck);
    return;
  }
  verdictLine(result.verified ? "VERIFIED" : "NOT VERIFIED", result.verified ? "ok" : "bad", result.reason);
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

async function verifyWithServer(text) {
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { error: "NotJson", detail: `not JSON: ${err.message}` };
  }
  const endpoint = doc && doc.format === "bindledger.timeline/1" ? "/v1/verify/timeline" : "/v1/verify";
  const response = await fetch(endpoint, { method: "POST", headers: { "Content-Type": "application/json" }, body: text });
  return response.json();
}

async function verifyText(text) {
  if (mode() === "server") {
    show(await verifyWithServer(text));
    return;
  }
  const url = $("rpc-url").value.trim();
  if (!/^https?:\/\/./i.test(url)) {
    show({ cannotCheck: "cannot check: enter the JSON-RPC URL of a node of the chain (http:// or https://)" });
    return;
  }
  $("verdict").textContent = "checking…";
  try {
    show(await verifyAgainstNode(text, url));
  } catch (err) {
    show({ cannotCheck: `cannot check: ${err.message}` });
  }
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

function showMode() {
  $("rpc").hidden = mode() !== "node";
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
  if (standalone()) {
    // Opened from disk: there is no server to ask, only the node.
    $("mode").hidden = true;
    $("lookup").hidden = true;
    $("server-copy").hidden = true;
  } else {
    for (const radio of document.querySelectorAll("input[name=mode]")) radio.addEventListener("change", showMode);
    $("lookup-form").addEventListener("submit", lookup);
    offerPlatforms();
  }
  showMode();
});
