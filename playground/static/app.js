// The playground page. The server renders Block Kit to HTML (see
// render.go); this script lays out the columns, keeps them live over
// server-sent events, and sends every interaction back to the server,
// which hands it to the bot as the payload Slack would send.
"use strict";

const el = (id) => document.getElementById(id);
const cols = new Map(); // user ID -> {root, feedHTML, homeHTML, modalKey}
let picked = localStorage.getItem("playground.picked") || "U0LUCAS01";
let last = null; // the last state from the server

async function api(path, body) {
  const r = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body || {}),
  });
  const out = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(out.error || r.statusText);
  return out;
}

// --- live updates ------------------------------------------------------

let inflight = null;
let again = false;
function refresh() {
  if (inflight) { again = true; return inflight; }
  inflight = (async () => {
    try {
      const r = await fetch("api/state?extra=" + encodeURIComponent(picked), { cache: "no-store" });
      if (r.ok) render(await r.json());
    } finally {
      inflight = null;
      if (again) { again = false; refresh(); }
    }
  })();
  return inflight;
}

function connect() {
  const es = new EventSource("events");
  es.addEventListener("change", () => refresh());
  es.onopen = () => refresh();
}

// --- rendering ---------------------------------------------------------

function initials(name) {
  return name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0]).join("").toUpperCase();
}

function roleClass(role) {
  if (role === "approver") return "approver";
  if (role === "UXPin admin") return "admin";
  if (role === "left the company") return "gone";
  return "";
}

function render(s) {
  last = s;
  el("clock-now").textContent = s.now;
  el("clock-ahead").textContent = s.ahead || "";
  document.body.dataset.now = s.now_iso;

  const gv = el("global-violations");
  if (s.violations && s.violations.length) {
    gv.hidden = false;
    gv.innerHTML = s.violations.map((v) => v.html).join("");
  } else {
    gv.hidden = true;
  }

  const wanted = s.columns.map((c) => c.user);
  for (const [user, c] of cols) {
    if (!wanted.includes(user)) { c.root.remove(); cols.delete(user); }
  }
  const main = el("columns");
  s.columns.forEach((c, i) => {
    let col = cols.get(c.user);
    if (!col) {
      col = buildColumn(c, !s.main.includes(c.user));
      cols.set(c.user, col);
    }
    if (main.children[i] !== col.root) main.insertBefore(col.root, main.children[i] || null);
    fillColumn(col, c, s);
  });
  renderTeam(s);
}

function buildColumn(c, isPicker) {
  const root = el("column-template").content.firstElementChild.cloneNode(true);
  root.dataset.user = c.user;
  root.querySelector(".avatar").textContent = initials(c.name);
  root.querySelector(".col-name").textContent = c.name;
  root.querySelector(".col-title").textContent = c.title;
  const role = root.querySelector(".col-role");
  role.textContent = c.role;
  const rc = roleClass(c.role);
  if (rc) role.classList.add(rc);
  if (isPicker) {
    root.classList.add("picked");
    root.querySelector(".picker-row").hidden = false;
  }
  return { root, feedHTML: null, homeHTML: null, modalKey: null, tab: "messages" };
}

function fillColumn(col, c, s) {
  const root = col.root;
  root.classList.toggle("inactive", !c.active);
  const picker = root.querySelector(".picker");
  if (picker && root.classList.contains("picked")) {
    const opts = s.people.filter((p) => !s.main.includes(p.id))
      .map((p) => `<option value="${esc(p.id)}"${p.id === c.user ? " selected" : ""}>${esc(p.name)}${p.active ? "" : " (deactivated)"}</option>`).join("");
    if (picker.dataset.opts !== opts) { picker.innerHTML = opts; picker.dataset.opts = opts; }
    root.querySelector(".deactivate").hidden = !c.active;
  }

  const feedHTML = c.feed && c.feed.length ? c.feed.map(item).join("")
    : `<div class="empty">No messages from the bot yet. Type a command below.</div>`;
  if (feedHTML !== col.feedHTML) {
    const pane = root.querySelector(".feed");
    const atBottom = col.feedHTML === null || pane.scrollHeight - pane.scrollTop - pane.clientHeight < 60;
    pane.innerHTML = feedHTML;
    col.feedHTML = feedHTML;
    if (atBottom) pane.scrollTop = pane.scrollHeight;
  }

  const homeHTML = c.home ? `<div data-surface="home">${c.home.html}</div>`
    : `<div class="empty">The Home tab has not been published yet.</div>`;
  if (homeHTML !== col.homeHTML) {
    root.querySelector(".home").innerHTML = homeHTML;
    col.homeHTML = homeHTML;
  }

  const backdrop = root.querySelector(".modal-backdrop");
  const top = c.modals && c.modals.length ? c.modals[c.modals.length - 1] : null;
  const key = top ? top.id + "/" + top.hash : null;
  if (key !== col.modalKey) {
    col.modalKey = key;
    if (!top) {
      backdrop.hidden = true;
      root.querySelector(".modal-body").innerHTML = "";
    } else {
      backdrop.hidden = false;
      backdrop.dataset.viewId = top.id;
      root.querySelector(".modal-title").textContent = top.title + (top.depth > 1 ? ` (${top.depth})` : "");
      root.querySelector(".modal-body").innerHTML = `<div data-surface="view" data-view-id="${esc(top.id)}">${top.html}</div>`;
      const submit = root.querySelector(".modal-submit");
      submit.hidden = !top.submit;
      submit.textContent = top.submit || "Submit";
      submit.disabled = false;
      root.querySelector(".modal-close").textContent = top.close || "Cancel";
    }
  }
}

function item(it) {
  if (it.kind === "violation") {
    return `<div class="msg violation"><div class="msg-avatar">!</div><div class="msg-main"><div class="msg-meta"><b>Slack</b> ${esc(it.time)}</div>${it.html}</div></div>`;
  }
  const eph = it.kind === "ephemeral";
  const replies = it.replies && it.replies.length
    ? `<div class="thread"><div class="thread-label">${it.replies.length} ${it.replies.length === 1 ? "reply" : "replies"}</div>${it.replies.map(item).join("")}</div>` : "";
  return `<div class="msg ${esc(it.kind)}" data-surface="message" data-channel="${esc(it.channel)}" data-ts="${esc(it.ts)}">` +
    `<div class="msg-avatar">U</div><div class="msg-main">` +
    `<div class="msg-meta"><b>UXPin Access</b><span class="app-badge">APP</span>${esc(it.time)}${it.edited ? ' <span class="edited">(edited)</span>' : ""}</div>` +
    (eph ? `<div class="eph-note">👁 Only visible to you</div>` : "") +
    `${it.html}${replies}</div></div>`;
}

function renderTeam(s) {
  el("team-count").textContent = "(" + s.team.length + ")";
  el("team-rows").innerHTML = s.team.map((m) => `<tr><td>${esc(m.name)}</td><td>${esc(m.email)}</td><td>${esc(m.role)}</td></tr>`).join("");
  const csv = el("team-csv");
  if (csv.value !== s.team_csv) csv.value = s.team_csv;
}

function esc(s) {
  return String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

// --- interactions -----------------------------------------------------

function showError(col, msg) {
  const box = col.querySelector(".slash-error");
  box.textContent = msg;
  box.hidden = !msg;
}

function confirmDialog(c) {
  return new Promise((resolve) => {
    el("confirm-title").textContent = c.title || "Are you sure?";
    el("confirm-text").innerHTML = c.text || "";
    const ok = el("confirm-ok");
    ok.textContent = c.confirm || "Yes";
    ok.className = "bk-button " + (c.style === "danger" ? "bk-button-danger" : "bk-button-primary");
    el("confirm-deny").textContent = c.deny || "Cancel";
    el("confirm").hidden = false;
    const done = (v) => { el("confirm").hidden = true; ok.onclick = null; el("confirm-deny").onclick = null; resolve(v); };
    ok.onclick = () => done(true);
    el("confirm-deny").onclick = () => done(false);
  });
}

// collectForm reads a modal's inputs as block_id -> action_id -> value.
function collectForm(root) {
  const form = {};
  root.querySelectorAll("[data-form][data-action-id]").forEach((e) => {
    const t = e.dataset.type;
    let v;
    switch (t) {
      case "multi_static_select":
        v = Array.from(e.selectedOptions).map((o) => o.value).join(",");
        break;
      case "radio_buttons": {
        const c = e.querySelector("input:checked");
        v = c ? c.value : "";
        break;
      }
      case "checkboxes":
        v = Array.from(e.querySelectorAll("input:checked")).map((c) => c.value).join(",");
        break;
      default:
        if (!("value" in e)) return;
        v = e.value;
    }
    (form[e.dataset.blockId] = form[e.dataset.blockId] || {})[e.dataset.actionId] = v;
  });
  return form;
}

async function act(target, value) {
  const col = target.closest(".column");
  const surf = target.closest("[data-surface]");
  if (!col || !surf) return;
  if (target.dataset.confirm && !(await confirmDialog(JSON.parse(target.dataset.confirm)))) return;
  const body = { user: col.dataset.user, block_id: target.dataset.blockId, action_id: target.dataset.actionId, value };
  switch (surf.dataset.surface) {
    case "message": body.channel = surf.dataset.channel; body.ts = surf.dataset.ts; break;
    case "home": body.home = true; break;
    case "view": body.view_id = surf.dataset.viewId; body.form = collectForm(surf); break;
  }
  target.disabled = true;
  try {
    showError(col, "");
    await api("api/action", body);
  } catch (e) {
    showError(col, e.message);
  } finally {
    target.disabled = false;
  }
}

async function submitModal(col) {
  const surf = col.querySelector('.modal-body [data-surface="view"]');
  if (!surf) return;
  const btn = col.querySelector(".modal-submit");
  btn.disabled = true;
  col.querySelectorAll(".modal-body .bk-error").forEach((e) => { e.textContent = ""; });
  try {
    const out = await api("api/submit", { user: col.dataset.user, view_id: surf.dataset.viewId, form: collectForm(surf) });
    if (out.errors) {
      for (const [bid, msg] of Object.entries(out.errors)) {
        const box = col.querySelector(`.modal-body .bk-error[data-error-for="${CSS.escape(bid)}"]`);
        if (box) box.textContent = msg;
      }
    }
  } catch (e) {
    showError(col, e.message);
  } finally {
    btn.disabled = false;
    refresh();
  }
}

document.addEventListener("click", async (ev) => {
  const t = ev.target;
  const col = t.closest(".column");
  const adv = t.closest("[data-advance]");
  if (adv) { await api("api/clock", { advance: adv.dataset.advance }).catch(alert); refresh(); return; }
  if (t.closest("#team-toggle")) { el("team").hidden = !el("team").hidden; return; }
  if (t.closest("#team-close")) { el("team").hidden = true; return; }
  if (t.closest("#team-copy")) {
    const csv = el("team-csv");
    try { await navigator.clipboard.writeText(csv.value); } catch { csv.select(); document.execCommand("copy"); }
    el("team-copied").textContent = "Copied " + (last ? last.team.length : 0) + " rows.";
    return;
  }
  if (!col) return;
  const tab = t.closest(".tab");
  if (tab) {
    col.querySelectorAll(".tab").forEach((b) => b.classList.toggle("active", b === tab));
    col.querySelectorAll(".pane").forEach((p) => { p.hidden = p.dataset.pane !== tab.dataset.tab; });
    if (tab.dataset.tab === "home") api("api/home", { user: col.dataset.user }).catch((e) => showError(col, e.message));
    return;
  }
  if (t.closest(".modal-submit")) { submitModal(col); return; }
  if (t.closest(".modal-close, .modal-x")) {
    const id = col.querySelector(".modal-backdrop").dataset.viewId;
    api("api/close", { user: col.dataset.user, view_id: id }).catch((e) => showError(col, e.message));
    return;
  }
  if (t.closest(".deactivate")) {
    if (await confirmDialog({ title: "Deactivate in Slack?", text: "Slack will send the bot a <code>user_change</code> event with <code>deleted: true</code>, as when someone leaves.", confirm: "Deactivate", style: "danger" })) {
      api("api/deactivate", { user: col.dataset.user }).catch((e) => showError(col, e.message));
    }
    return;
  }
  const item = t.closest(".bk-overflow-item");
  if (item) {
    const menu = item.closest(".bk-overflow");
    menu.open = false;
    act(menu, item.dataset.value);
    return;
  }
  const btn = t.closest("button.bk-button[data-action-id]");
  if (btn && !btn.dataset.form) act(btn, btn.dataset.value || "");
});

document.addEventListener("change", (ev) => {
  const t = ev.target;
  if (t.classList.contains("picker")) {
    picked = t.value;
    localStorage.setItem("playground.picked", picked);
    refresh();
    return;
  }
  const host = t.closest("[data-action-id]");
  if (!host || host.dataset.form || host.tagName === "BUTTON" || host.classList.contains("bk-overflow")) return;
  let v = t.value;
  if (host.dataset.type === "checkboxes") v = Array.from(host.querySelectorAll("input:checked")).map((c) => c.value).join(",");
  if (host.dataset.type === "multi_static_select") v = Array.from(host.selectedOptions).map((o) => o.value).join(",");
  if (v !== "") act(host, v);
});

document.addEventListener("submit", async (ev) => {
  const form = ev.target.closest("form.slash");
  if (!form) return;
  ev.preventDefault();
  const col = form.closest(".column");
  const input = form.querySelector(".slash-input");
  const text = input.value;
  input.value = "";
  // The box already says /uxpin-access; typing it again is fine.
  const args = text.trim().replace(/^\/uxpin-access\b/, "").trim();
  showError(col, "");
  try {
    await api("api/slash", { user: col.dataset.user, text: args });
  } catch (e) {
    showError(col, e.message);
    input.value = text;
  }
});

connect();
refresh();
