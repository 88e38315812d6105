// The desk's only script: clocks that count down, and forms that cannot be sent twice by a double click.
// Everything works without it; it only keeps the page honest between reloads.
"use strict";

function minutesText(seconds) {
  const minutes = Math.floor(Math.abs(seconds) / 60);
  if (minutes < 60) return minutes + " min";
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return hours + " h " + String(minutes % 60).padStart(2, "0") + " min";
  return Math.floor(hours / 24) + " d " + (hours % 24) + " h";
}

function tick() {
  const now = Date.now();
  document.querySelectorAll("[data-due]").forEach(function (el) {
    const left = (Date.parse(el.dataset.due) - now) / 1000;
    el.textContent = left >= 0 ? "in " + minutesText(left) : minutesText(left) + " overdue";
    el.classList.toggle("overdue", left < 0);
  });
  document.querySelectorAll("[data-since]").forEach(function (el) {
    el.textContent = minutesText((now - Date.parse(el.dataset.since)) / 1000);
  });
}

// A ticket assigned to me, or a customer writing on one of mine, while this page is open: say so at the top,
// with a link (server-sent events).
function announce(kind, lead, notice, tail) {
  const line = document.createElement("p");
  line.className = "notice live-notice " + kind;
  const link = document.createElement("a");
  link.href = "/tickets/" + notice.ticket_id;
  link.textContent = "#" + notice.ticket_id + " " + notice.subject;
  line.append(lead, link, tail);
  document.getElementById("live").prepend(line);
}

function listen() {
  const url = document.body.dataset.live;
  if (!url || !window.EventSource) return;
  const source = new EventSource(url);
  source.addEventListener("assigned", function (event) {
    const notice = JSON.parse(event.data);
    announce("assigned", "Assigned to you: ", notice, " (" + notice.priority + " priority)");
  });
  source.addEventListener("wrote", function (event) {
    const notice = JSON.parse(event.data);
    announce("wrote", "Customer wrote on ", notice, " (" + notice.channel + ")");
  });
  window.addEventListener("pagehide", function () { source.close(); });
}

// Live pages (the supervisor's queues) reload now and then, unless someone is filling in a form on them.
function refresh() {
  const marked = document.querySelector("[data-refresh]");
  if (!marked) return;
  setInterval(function () {
    const active = document.activeElement;
    if (active && active.closest && active.closest("form") && active.tagName !== "BUTTON") return;
    window.location.reload();
  }, Number(marked.dataset.refresh) * 1000);
}

// Keys for the frequent actions: j and k walk a queue's tickets (Enter opens one), Ctrl+Enter sends a reply.
function shortcuts() {
  document.addEventListener("keydown", function (event) {
    const target = event.target;
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter" && target.tagName === "TEXTAREA" && target.form) {
      event.preventDefault();
      target.form.requestSubmit();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (target.closest && target.closest("input, textarea, select")) return;
    if (event.key === "/") {  // search, as on most sites: the page's search box, else the search page
      const box = document.querySelector("input[name=q]");
      event.preventDefault();
      if (box) box.focus(); else window.location.href = "/search";
      return;
    }
    if (event.key !== "j" && event.key !== "k") return;
    const links = Array.from(document.querySelectorAll("table.queue tbody a"));
    if (!links.length) return;
    const at = links.indexOf(document.activeElement);
    const next = at < 0 ? 0 : event.key === "j" ? Math.min(at + 1, links.length - 1) : Math.max(at - 1, 0);
    links[next].focus();
    event.preventDefault();
  });
}

document.addEventListener("DOMContentLoaded", function () {
  tick();
  listen();
  refresh();
  shortcuts();
  setInterval(tick, 30000);
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    });
  });
});
