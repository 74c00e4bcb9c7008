// tower-oidc admin page: calls the JSON admin API. Writes only with textContent (no HTML); its
// texts, in the page's language, come from the page's `admin-messages` JSON block.
"use strict";
(function () {
  var main = document.getElementById("admin");
  if (!main) return;
  var api = main.getAttribute("data-api");
  var msg = {};
  try {
    msg = JSON.parse(document.getElementById("admin-messages").textContent);
  } catch (e) { /* the English fallbacks below */ }
  function text(key, fallback, vars) {
    var s = msg[key] || fallback;
    Object.keys(vars || {}).forEach(function (k) { s = s.split("{" + k + "}").join(String(vars[k])); });
    return s;
  }

  function call(method, path, body) {
    var opts = {
      method: method,
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(api + path, opts).then(function (r) {
      return r.json().then(function (j) { return { status: r.status, body: j }; },
        function () { return { status: r.status, body: {} }; });
    });
  }

  function show(box, lines, ok) {
    var out = box.querySelector(".result");
    out.textContent = "";
    lines.forEach(function (l) {
      var p = document.createElement("p");
      p.className = l.ok === false || ok === false ? "fail" : "ok";
      p.textContent = l.text;
      out.appendChild(p);
    });
  }

  function problem(box, res) {
    var b = res.body || {};
    var where = b.field ? b.field + ": " : "";
    var why = b.message || text("http_error", "The server answered HTTP {status}.", { status: res.status });
    show(box, [{ ok: false, text: where + why }], false);
  }

  function csv(s) {
    return s.split(",").map(function (x) { return x.trim(); }).filter(function (x) { return x; });
  }

  function fields(form) {
    var f = form.elements;
    var out = {
      url: f.url.value.trim() || null,
      slug: f.slug.value.trim() || null,
      internal_url: f.internal_url.value.trim() || null,
      client_id: f.client_id.value.trim() || null,
      auto_register: f.auto_register.checked,
      refresh_tokens: f.refresh_tokens.checked,
      icon: f.icon.value.trim() || null,
      email_trust: f.email_trust.value,
      admin_rules: { groups: csv(f.admin_groups.value), email_domains: csv(f.admin_domains.value) }
    };
    var scopes = f.scopes.value.trim();
    out.scopes = scopes ? scopes.split(/\s+/) : null;
    var order = f.sort_order.value.trim();
    out.sort_order = order === "" ? null : Number(order);
    if (f.client_secret.value !== "") out.client_secret = f.client_secret.value;
    if (f.allowed_tenants) out.allowed_tenants = csv(f.allowed_tenants.value);
    // PAR is sent only when changed, so saving other fields leaves it following the spec.
    if (f.par && f.par.checked !== f.par.defaultChecked) out.par = f.par.checked;
    return out;
  }

  var list = main.querySelector("ul.providers");
  function items() {
    return Array.prototype.slice.call(list.querySelectorAll("li.provider"));
  }
  function enabled(li) {
    return li.getAttribute("data-enabled") === "true";
  }

  // Up and down move a provider within its group (enabled ones, then the others): the ends of
  // each group cannot move further.
  function refreshMoves() {
    var all = items();
    all.forEach(function (li, i) {
      var prev = all[i - 1], next = all[i + 1];
      li.querySelector("button.up").disabled = !prev || enabled(prev) !== enabled(li);
      li.querySelector("button.down").disabled = !next || enabled(next) !== enabled(li);
    });
  }

  function move(li, button, up) {
    var all = items();
    var i = all.indexOf(li);
    var other = all[up ? i - 1 : i + 1];
    if (!other || enabled(other) !== enabled(li)) return;
    if (up) list.insertBefore(li, other); else list.insertBefore(other, li);
    // New sort orders for every provider, in the page's order, saved at once.
    var order = items().map(function (x, n) {
      x.setAttribute("data-order", String((n + 1) * 10));
      var input = x.querySelector('input[name="sort_order"]');
      if (input) input.value = String((n + 1) * 10);
      return { id: x.getAttribute("data-id"), sort_order: (n + 1) * 10 };
    });
    refreshMoves();
    if (button.disabled) button = li.querySelector(up ? "button.down" : "button.up");
    button.focus();
    call("PUT", "/providers/order", order).then(function (res) {
      if (res.status === 200) show(li, [{ text: text("moved", "Order saved.") }]);
      else problem(li, res);
    });
  }

  function setOpen(li, open) {
    var button = li.querySelector("button.open");
    var panel = li.querySelector(".settings");
    button.setAttribute("aria-expanded", open ? "true" : "false");
    panel.hidden = !open;
  }

  items().forEach(function (li) {
    var id = encodeURIComponent(li.getAttribute("data-id"));
    var toggle = li.querySelector(".toggle");
    var status = li.querySelector(".status");
    var form = li.querySelector("form.edit");
    toggle.addEventListener("change", function () {
      var want = toggle.checked;
      call("POST", "/providers/" + id + (want ? "/enable" : "/disable")).then(function (res) {
        if (res.status === 200) {
          li.setAttribute("data-enabled", want ? "true" : "false");
          status.textContent = want ? status.getAttribute("data-on") : status.getAttribute("data-off");
          status.classList.toggle("on", want);
          show(li, [{ text: want ? text("enabled", "Enabled.") : text("disabled", "Disabled.") }]);
          refreshMoves();
        } else {
          toggle.checked = !want;
          problem(li, res);
        }
      });
    });
    li.querySelector("button.up").addEventListener("click", function (ev) { move(li, ev.currentTarget, true); });
    li.querySelector("button.down").addEventListener("click", function (ev) { move(li, ev.currentTarget, false); });
    li.querySelector("button.open").addEventListener("click", function () {
      var open = li.querySelector("button.open").getAttribute("aria-expanded") !== "true";
      // One provider's settings at a time.
      items().forEach(function (other) { if (other !== li) setOpen(other, false); });
      setOpen(li, open);
      if (open) form.elements.url.focus();
    });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      call("PUT", "/providers/" + id, fields(form)).then(function (res) {
        if (res.status === 200) {
          form.elements.client_secret.value = "";
          if (form.elements.par) form.elements.par.defaultChecked = res.body.par === true;
          var state = li.querySelector(".secret-state");
          state.textContent = res.body.client_secret_set ? state.getAttribute("data-set") : state.getAttribute("data-unset");
          show(li, [{ text: text("saved", "Saved. It takes effect at the next sign-in.") }]);
        } else {
          problem(li, res);
        }
      });
    });
    li.querySelector("button.test").addEventListener("click", function () {
      show(li, [{ text: text("testing", "Testing…") }]);
      call("POST", "/providers/" + id + "/test").then(function (res) {
        if (res.status !== 200) return problem(li, res);
        var lines = (res.body.checks || []).map(function (c) {
          return { ok: c.ok, text: (c.ok ? (c.warning ? "⚠ " : "✓ ") : "✗ ") + c.name + ": " + c.message };
        });
        show(li, lines, res.body.ok);
      });
    });
  });
  refreshMoves();

  var sessions = main.querySelector("section.sessions");
  if (sessions) {
    sessions.querySelector("form.end-sessions").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var user = ev.target.elements.user_id.value.trim();
      if (!user) return;
      call("DELETE", "/users/" + encodeURIComponent(user) + "/sessions").then(function (res) {
        if (res.status !== 200) return problem(sessions, res);
        var n = res.body.ended;
        show(sessions, [{ text: n === 1 ? text("ended_one", "Ended 1 session.") : text("ended_many", "Ended {n} sessions.", { n: n }) }]);
      });
    });
  }
})();
