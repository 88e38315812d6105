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

document.addEventListener("DOMContentLoaded", function () {
  tick();
  setInterval(tick, 30000);
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    });
  });
});
