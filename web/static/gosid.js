// gosid.js only enhances pages that work without it: it adds a show/hide
// button to password fields. Texts come from the page (data-show,
// data-hide), so they follow the page's language.
(function () {
  "use strict";
  var fields = document.querySelectorAll("input[data-password-toggle]");
  Array.prototype.forEach.call(fields, function (input) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "password-toggle";
    button.setAttribute("aria-controls", input.id);
    button.textContent = input.getAttribute("data-show");
    button.addEventListener("click", function () {
      var show = input.type === "password";
      input.type = show ? "text" : "password";
      button.textContent = input.getAttribute(show ? "data-hide" : "data-show");
    });
    // Hide the password again before the form is sent, so the browser
    // does not offer to remember it as plain text.
    if (input.form) {
      input.form.addEventListener("submit", function () {
        input.type = "password";
      });
    }
    input.insertAdjacentElement("afterend", button);
  });
})();

// Live validation: fields with data-rule are checked as they are typed (and
// on leaving the field), with the same messages the server gives. The
// server checks everything again; this only spares a round trip.
(function () {
  "use strict";
  var letters = /^[A-Za-z\u0400-\u04FF]+(?:[ '\u2019-][A-Za-z\u0400-\u04FF]+)*$/;
  var phone = /^(\+7|7|8)\d{10}$/;
  var email = /^[^\s@]+@[^\s@]+\.[^\s@]{2,}$/;
  var rules = {
    name: function (v, el) {
      if (!letters.test(v)) { return el.getAttribute("data-msg"); }
      if (/[A-Za-z]/.test(v) && /[\u0400-\u04FF]/.test(v)) { return el.getAttribute("data-msg-mixed"); }
      return "";
    },
    contact: function (v, el) {
      var digits = v.replace(/[\s()\-.]/g, "");
      return phone.test(digits) || email.test(v) ? "" : el.getAttribute("data-msg");
    },
    password: function (v, el) {
      if (Array.from(v).length < 12) { return el.getAttribute("data-msg-short"); }
      if (v.toUpperCase() === v || v.toLowerCase() === v) { return el.getAttribute("data-msg-cases"); }
      if (!/\d/.test(v)) { return el.getAttribute("data-msg-digit"); }
      if (!/[^\p{L}\p{N}]/u.test(v)) { return el.getAttribute("data-msg-special"); }
      return "";
    },
    confirm: function (v, el) {
      var pw = el.form && el.form.querySelector("input[data-rule=password]");
      return pw && pw.value !== v ? el.getAttribute("data-msg") : "";
    },
    code: function (v, el) {
      return /^\d{6}$/.test(v) ? "" : el.getAttribute("data-msg");
    }
  };
  function check(el) {
    var v = el.value.trim();
    var live = document.getElementById(el.id + "-live");
    var msg = v === "" ? "" : rules[el.getAttribute("data-rule")](v, el);
    if (!live) {
      live = document.createElement("p");
      live.id = el.id + "-live";
      live.className = "field-error";
      live.setAttribute("aria-live", "polite");
      el.insertAdjacentElement("beforebegin", live);
      var described = el.getAttribute("aria-describedby");
      el.setAttribute("aria-describedby", (described ? described + " " : "") + live.id);
    }
    live.textContent = msg || "";
    live.hidden = !msg;
    if (msg) { el.setAttribute("aria-invalid", "true"); } else { el.removeAttribute("aria-invalid"); }
  }
  Array.prototype.forEach.call(document.querySelectorAll("input[data-rule]"), function (el) {
    var timer;
    if (!rules[el.getAttribute("data-rule")]) { return; }
    el.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { check(el); }, 400);
    });
    el.addEventListener("blur", function () { check(el); });
  });
})();

// Security keys (WebAuthn): a form with data-webauthn="get" or "create"
// carries the server's options as JSON; the browser ceremony runs and its
// result is posted back in the hidden "credential" field. Binary fields
// travel as base64url, as go-webauthn expects.
(function () {
  "use strict";
  function fromB64(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) { s += "="; }
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }
  function toB64(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function creds(list) {
    return (list || []).map(function (c) { return Object.assign({}, c, { id: fromB64(c.id) }); });
  }
  function run(form) {
    var mode = form.getAttribute("data-webauthn");
    var pk = JSON.parse(form.getAttribute("data-options")).publicKey;
    pk.challenge = fromB64(pk.challenge);
    var call;
    if (mode === "create") {
      pk.user.id = fromB64(pk.user.id);
      pk.excludeCredentials = creds(pk.excludeCredentials);
      call = navigator.credentials.create({ publicKey: pk });
    } else {
      pk.allowCredentials = creds(pk.allowCredentials);
      call = navigator.credentials.get({ publicKey: pk });
    }
    return call.then(function (c) {
      var r = c.response, resp = { clientDataJSON: toB64(r.clientDataJSON) };
      if (mode === "create") {
        resp.attestationObject = toB64(r.attestationObject);
        if (r.getTransports) { resp.transports = r.getTransports(); }
      } else {
        resp.authenticatorData = toB64(r.authenticatorData);
        resp.signature = toB64(r.signature);
        if (r.userHandle) { resp.userHandle = toB64(r.userHandle); }
      }
      form.querySelector("input[name=credential]").value = JSON.stringify({
        id: c.id, rawId: toB64(c.rawId), type: c.type, response: resp,
        authenticatorAttachment: c.authenticatorAttachment || undefined,
        clientExtensionResults: c.getClientExtensionResults ? c.getClientExtensionResults() : {}
      });
      form.submit();
    });
  }
  function fail(form) {
    var p = document.createElement("p");
    p.className = "field-error";
    p.setAttribute("role", "alert");
    p.textContent = form.getAttribute("data-error");
    form.appendChild(p);
  }
  Array.prototype.forEach.call(document.querySelectorAll("form[data-webauthn]"), function (form) {
    if (!window.PublicKeyCredential) { fail(form); return; }
    if (form.getAttribute("data-webauthn") === "get") {
      run(form).catch(function () { fail(form); });
      return;
    }
    form.addEventListener("submit", function (e) {
      if (form.querySelector("input[name=credential]").value) { return; }
      e.preventDefault();
      run(form).catch(function () { fail(form); });
    });
  });
})();
