// The QR page under receipt policy (served as /license/receipt.js: the
// page's CSP admits scripts from this server only, and connections to this
// server and the vendor's activation service only).
//
// "Activate through the vendor's service": POST the challenge's token text to
// the vendor's /receipt (no credentials, no cookies: the vendor learns
// nothing but the token), then POST the armored receipt it returns to this
// server's /license/receipt with the page's CSRF token. The vendor's page
// never posts into the customer's network; this browser carries the receipt.
//
// The upload form: a chosen file is read into the textarea, which the form
// posts.
"use strict";
(function () {
  var button = document.getElementById("vendor-activate");
  var result = document.getElementById("vendor-result");
  var file = document.getElementById("receipt-file");
  var text = document.getElementById("receipt-text");

  if (file && text) {
    file.addEventListener("change", function () {
      var f = file.files && file.files[0];
      if (f) {
        f.text().then(function (t) {
          text.value = t;
        });
      }
    });
  }
  if (!button || !result) {
    return;
  }

  function show(message, ok) {
    result.textContent = message;
    result.className = ok ? "ok" : "err";
  }

  function reasons(v) {
    if (v && typeof v.message === "string") {
      return v.message;
    }
    if (v && Array.isArray(v.reasons)) {
      return v.reasons.map(function (r) { return r.message + " (" + r.code + ")"; }).join(" ");
    }
    return JSON.stringify(v);
  }

  function json(stage) {
    return function (r) {
      return r.json().catch(function () {
        throw new Error(stage + ": HTTP " + r.status);
      });
    };
  }

  button.addEventListener("click", function () {
    button.disabled = true;
    show(button.dataset.working, true);
    var base = button.dataset.base.replace(/\/+$/, "");
    fetch(base + "/receipt", {
      method: "POST",
      // The token, and the instance key the challenge names only by its
      // fingerprint: the receipt names the key itself.
      body: button.dataset.token + "\ninstance-key " + button.dataset.instanceKey + "\n",
      mode: "cors",
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
      headers: { "Content-Type": "text/plain" },
    })
      .catch(function (e) {
        throw new Error(button.dataset.unreachable + " (" + e.message + ")");
      })
      .then(json(base))
      .then(function (v) {
        if (!v || v.status !== "activated" || typeof v.receipt !== "string") {
          throw new Error(reasons(v));
        }
        var csrf = document.querySelector("input[name=csrf]").value;
        return fetch("/license/receipt", {
          method: "POST",
          body: "csrf=" + encodeURIComponent(csrf) + "&receipt=" + encodeURIComponent(v.receipt),
          credentials: "same-origin",
          headers: { "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json" },
        });
      })
      .then(json("/license/receipt"))
      .then(function (v) {
        if (!v || v.status !== "activated") {
          throw new Error(reasons(v));
        }
        show(v.message, true);
        var secret = document.getElementById("vendor-join-secret");
        if (secret && typeof v.join_secret === "string") {
          secret.textContent = v.join_secret;
        }
      })
      .catch(function (e) {
        show(button.dataset.failed + " " + e.message, false);
        button.disabled = false;
      });
  });
})();
