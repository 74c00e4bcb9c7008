// tower-oidc admin page: calls the JSON admin API. Writes only with textContent (no HTML).
"use strict";
(function () {
  var main = document.getElementById("admin");
  if (!main) return;
  var api = main.getAttribute("data-api");

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

  function show(section, lines, ok) {
    var out = section.querySelector(".result");
    out.textContent = "";
    lines.forEach(function (l) {
      var p = document.createElement("p");
      p.className = l.ok === false || ok === false ? "fail" : "ok";
      p.textContent = l.text;
      out.appendChild(p);
    });
  }

  function problem(section, res) {
    var b = res.body || {};
    var where = b.field ? b.field + ": " : "";
    show(section, [{ ok: false, text: where + (b.message || ("HTTP " + res.status)) }], false);
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
    return out;
  }

  Array.prototype.forEach.call(main.querySelectorAll("section.provider"), function (section) {
    var id = encodeURIComponent(section.getAttribute("data-id"));
    var toggle = section.querySelector(".toggle");
    var form = section.querySelector("form.edit");
    toggle.addEventListener("change", function () {
      var want = toggle.checked;
      call("POST", "/providers/" + id + (want ? "/enable" : "/disable")).then(function (res) {
        if (res.status === 200) {
          show(section, [{ text: want ? "Enabled." : "Disabled." }]);
        } else {
          toggle.checked = !want;
          problem(section, res);
        }
      });
    });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      call("PUT", "/providers/" + id, fields(form)).then(function (res) {
        if (res.status === 200) {
          form.elements.client_secret.value = "";
          form.elements.client_secret.placeholder = res.body.client_secret_set ? "set: leave empty to keep" : "not set";
          show(section, [{ text: "Saved. It takes effect at the next sign-in." }]);
        } else {
          problem(section, res);
        }
      });
    });
    section.querySelector("button.test").addEventListener("click", function () {
      show(section, [{ text: "Testing…" }]);
      call("POST", "/providers/" + id + "/test").then(function (res) {
        if (res.status !== 200) return problem(section, res);
        var lines = (res.body.checks || []).map(function (c) {
          return { ok: c.ok, text: (c.ok ? (c.warning ? "⚠ " : "✓ ") : "✗ ") + c.name + ": " + c.message };
        });
        show(section, lines, res.body.ok);
      });
    });
  });

  var sessions = main.querySelector("section.sessions");
  if (sessions) {
    sessions.querySelector("form.end-sessions").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var user = ev.target.elements.user_id.value.trim();
      if (!user) return;
      call("DELETE", "/users/" + encodeURIComponent(user) + "/sessions").then(function (res) {
        if (res.status !== 200) return problem(sessions, res);
        var n = res.body.ended;
        show(sessions, [{ text: "Ended " + n + (n === 1 ? " session." : " sessions.") }]);
      });
    });
  }
})();
