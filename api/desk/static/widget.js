/* Triage chat widget loader: <script src="https://TRIAGE/widget.js" async></script> on a customer's site.
   It adds a chat button and, once opened, an iframe with TRIAGE/widget/chat; everything else runs inside
   the iframe, on Triage's origin, so this page never sees the conversation's token. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.triageChatWidget) { return; }
  var base = new URL(script.src).origin;
  var OPEN = "triage-chat-open";  // this tab's choice, so a reload keeps the chat open
  var frame = null;
  var button = document.createElement("button");
  button.type = "button";
  button.textContent = "Chat with us";
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", "triage-chat-frame");
  var s = button.style;
  s.position = "fixed"; s.right = "16px"; s.bottom = "16px"; s.zIndex = "2147483646";
  s.padding = "10px 16px"; s.border = "0"; s.borderRadius = "20px"; s.background = "#1a56b8";
  s.color = "#fff"; s.font = "600 15px system-ui, sans-serif"; s.cursor = "pointer";
  s.boxShadow = "0 2px 8px rgba(0,0,0,.25)";

  function remember(open) {
    try { if (open) { sessionStorage.setItem(OPEN, "1"); } else { sessionStorage.removeItem(OPEN); } }
    catch (e) { /* storage off: the chat just starts closed after a reload */ }
  }

  function show(open) {
    if (open && !frame) {
      frame = document.createElement("iframe");
      frame.id = "triage-chat-frame";
      frame.title = "Chat with us";
      frame.src = base + "/widget/chat";
      var f = frame.style;
      f.position = "fixed"; f.right = "16px"; f.bottom = "64px"; f.zIndex = "2147483647";
      f.width = "min(360px, calc(100vw - 32px))"; f.height = "min(520px, calc(100vh - 96px))";
      f.border = "1px solid #c8ccd6"; f.borderRadius = "10px"; f.background = "#fff";
      f.boxShadow = "0 4px 16px rgba(0,0,0,.25)";
      document.body.appendChild(frame);
    }
    if (frame) { frame.style.display = open ? "block" : "none"; }
    button.setAttribute("aria-expanded", open ? "true" : "false");
    button.textContent = open ? "Close chat" : "Chat with us";
    remember(open);
  }

  button.addEventListener("click", function () {
    show(!(frame && frame.style.display !== "none"));
  });
  window.triageChatWidget = { open: function () { show(true); }, close: function () { show(false); } };

  function mount() {
    document.body.appendChild(button);
    var wasOpen = false;
    try { wasOpen = sessionStorage.getItem(OPEN) === "1"; } catch (e) { wasOpen = false; }
    if (wasOpen) { show(true); }
  }
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }
}());
