/* The chat widget's iframe page: start a conversation, send messages, hear answers live.
   The conversation's token lives in this origin's localStorage (so a reload keeps the chat) and travels
   only in the Authorization header; the answers come as server-sent events read with fetch, because
   EventSource cannot send that header (and a token in the URL would end up in access logs). */
(function () {
  "use strict";
  var KEY = "triage-chat-token";
  var list = document.getElementById("messages");
  var form = document.getElementById("chat-form");
  var about = document.getElementById("about-you");
  var input = document.getElementById("chat-text");
  var errorBox = document.getElementById("chat-error");
  var button = form.querySelector("button[type=submit]");
  var max = parseInt(document.querySelector(".chat").getAttribute("data-max"), 10) || 2000;
  var memory = null;  // when storage is refused (some browsers' settings for framed pages)
  var lastId = 0;
  var streaming = null;  // the AbortController of the open stream
  var retryMs = 2000;
  var sending = 0;  // messages POSTed whose answer has not come back yet
  var early = [];  // texts of our messages the stream delivered before their POST answered

  function getToken() {
    try { return localStorage.getItem(KEY); } catch (e) { return memory; }
  }
  function setToken(token) {
    memory = token;
    try { if (token) { localStorage.setItem(KEY, token); } else { localStorage.removeItem(KEY); } }
    catch (e) { /* kept in memory for this page only */ }
  }
  function headers(extra) {
    var h = { "Authorization": "Bearer " + getToken() };
    for (var k in extra || {}) { h[k] = extra[k]; }
    return h;
  }
  function showError(text) {
    errorBox.textContent = text || "";
    errorBox.hidden = !text;
  }
  function problem(response) {
    return response.json().then(function (body) { return body.detail || response.statusText; },
                                function () { return response.statusText || ("error " + response.status); });
  }

  function who(m) {
    if (m.role === "customer") { return "You"; }
    if (m.role === "bot") { return "Automatic answer"; }
    return m.agent_name || "Agent";
  }
  function bubble(role, label, text) {
    var li = document.createElement("li");
    li.className = role;
    var name = document.createElement("span");
    name.className = "who";
    name.textContent = label;
    li.appendChild(name);
    li.appendChild(document.createTextNode(text));
    return li;
  }
  function add(m) {
    if (m.id <= lastId) { return; }
    lastId = m.id;
    if (m.role === "customer") {  // our own message, now stored: it replaces its "sending" copy
      var pending = list.querySelectorAll("li.pending"), matched = false;
      for (var i = 0; i < pending.length && !matched; i++) {
        if (pending[i].getAttribute("data-text") === m.text) { pending[i].remove(); matched = true; }
      }
      if (!matched && sending) { early.push(m.text); }  // stored before our POST's answer came back
    }
    var li = bubble(m.role, who(m), m.text);
    li.setAttribute("data-id", String(m.id));
    list.appendChild(li);
    list.scrollTop = list.scrollHeight;
  }

  function forget() {
    setToken(null);
    if (streaming) { streaming.abort(); streaming = null; }
    about.hidden = false;
  }

  function load() {
    return fetch("/widget/conversations/messages", { headers: headers() }).then(function (response) {
      if (response.status === 401) { forget(); return; }
      if (!response.ok) { return problem(response).then(showError); }
      return response.json().then(function (body) {
        body.messages.forEach(add);
        listen();
      });
    });
  }

  function listen() {
    if (streaming || !getToken()) { return; }
    var controller = new AbortController();
    streaming = controller;
    var again = function (delay) {
      if (streaming === controller) { streaming = null; }
      if (!controller.signal.aborted) { setTimeout(listen, delay); }
    };
    fetch("/widget/conversations/events", {
      headers: headers({ "Last-Event-ID": String(lastId), "Accept": "text/event-stream" }),
      signal: controller.signal, cache: "no-store"
    }).then(function (response) {
      if (response.status === 401) { forget(); return; }
      if (!response.ok || !response.body) { again(retryMs * 3); return; }
      var reader = response.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      var pump = function () {
        return reader.read().then(function (chunk) {
          if (chunk.done) { again(retryMs); return; }  // the server ends a stream after a few minutes
          buffer += decoder.decode(chunk.value, { stream: true });
          var blocks = buffer.split("\n\n");
          buffer = blocks.pop();
          blocks.forEach(handle);
          return pump();
        });
      };
      return pump();
    }).catch(function () { again(retryMs * 2); });
  }

  function handle(block) {  // one server-sent event (WHATWG HTML, "Server-sent events")
    var event = "message", data = [];
    block.split("\n").forEach(function (line) {
      if (line.indexOf("retry:") === 0) { retryMs = parseInt(line.slice(6), 10) || retryMs; }
      else if (line.indexOf("event:") === 0) { event = line.slice(6).trim(); }
      else if (line.indexOf("data:") === 0) { data.push(line.slice(5).replace(/^ /, "")); }
    });
    if (event === "message" && data.length) { add(JSON.parse(data.join("\n"))); }
  }

  function site() {
    if (location.ancestorOrigins && location.ancestorOrigins.length) { return location.ancestorOrigins[0]; }
    try { return document.referrer ? new URL(document.referrer).origin : null; } catch (e) { return null; }
  }

  function start() {
    if (getToken()) { return Promise.resolve(true); }
    return fetch("/widget/conversations", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: form.elements.name.value, email: form.elements.email.value, site: site() })
    }).then(function (response) {
      if (!response.ok) { return problem(response).then(function (text) { showError(text); return false; }); }
      return response.json().then(function (body) {
        setToken(body.token);
        about.hidden = true;
        listen();
        return true;
      });
    });
  }

  function send(text) {
    sending += 1;
    return fetch("/widget/conversations/messages", {
      method: "POST", headers: headers({ "Content-Type": "application/json" }), body: JSON.stringify({ text: text })
    }).then(function (response) {
      sending -= 1;
      if (response.status === 401) { forget(); showError("This chat has ended; send your message again."); return; }
      if (!response.ok) { return problem(response).then(showError); }
      var stored = early.indexOf(text);
      if (stored >= 0) { early.splice(stored, 1); input.value = ""; showError(""); return; }
      var li = bubble("customer pending", "You (sending)", text);
      li.setAttribute("data-text", text);
      list.appendChild(li);
      list.scrollTop = list.scrollHeight;
      input.value = "";
      showError("");
    }, function (failure) { sending -= 1; throw failure; });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { showError("Write a message first."); input.focus(); return; }
    if (text.length > max) { showError("Your message is " + text.length + " characters; " + max + " fit."); return; }
    button.disabled = true;
    start().then(function (ok) { return ok ? send(text) : null; })
      .catch(function () { showError("The chat cannot be reached; try again in a moment."); })
      .then(function () { button.disabled = false; input.focus(); });
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  button.disabled = false;  // the page's HTML keeps it off until the form is ours to send
  if (getToken()) {
    about.hidden = true;
    load().catch(function () { showError("The chat cannot be reached; try again in a moment."); });
  }
}());
