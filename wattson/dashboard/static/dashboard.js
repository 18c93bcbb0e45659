// Wattson dashboard: live parts and confirmations, in a few dozen lines of our own (docs/dashboard.md).
// An element with data-live="kinds" and data-src="url" is re-fetched when the server's event
// stream (/live) says one of those kinds changed; forms with data-confirm ask first.
(function () {
  "use strict";
  var busy = new WeakMap();

  function refresh(element) {
    if (busy.get(element)) { busy.set(element, "again"); return; }
    busy.set(element, true);
    fetch(element.dataset.src, { headers: { "X-Fragment": "1" }, credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); return null; }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html !== null && html !== undefined && !element.contains(document.activeElement)) {
          element.innerHTML = html;
        }
      })
      .catch(function () { /* the next change tries again */ })
      .finally(function () {
        var again = busy.get(element) === "again";
        busy.delete(element);
        if (again) { refresh(element); }
      });
  }

  function connect() {
    var parts = document.querySelectorAll("[data-live]");
    var light = document.getElementById("live");
    if (!parts.length || !window.EventSource) { return; }
    var source = new EventSource("/live");
    source.addEventListener("open", function () { if (light) { light.className = "live on"; } });
    source.addEventListener("error", function () { if (light) { light.className = "live off"; } });
    source.addEventListener("change", function (event) {
      var kinds = JSON.parse(event.data);
      parts.forEach(function (element) {
        var wanted = element.dataset.live.split(" ");
        if (kinds.some(function (kind) { return wanted.indexOf(kind) >= 0; })) { refresh(element); }
      });
    });
  }

  document.addEventListener("submit", function (event) {
    var question = event.target.dataset.confirm;
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
  document.addEventListener("DOMContentLoaded", connect);
})();

// Tariff page: the price estimate follows the form as it is typed (without a script the form's
// button asks the same page). A form with data-estimate="ID" re-fetches that block of its page.
(function () {
  "use strict";
  function follow(form) {
    var target = document.getElementById(form.dataset.estimate);
    var timer = null;
    if (!target) { return; }
    function ask() {
      var query = new URLSearchParams(new FormData(form));
      query.set("fragment", form.dataset.estimate);
      fetch(form.action + "?" + query.toString(), { headers: { "X-Fragment": "1" }, credentials: "same-origin" })
        .then(function (response) { return response.text(); })
        .then(function (html) { target.innerHTML = html; })
        .catch(function () { /* the button still works */ });
    }
    form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(ask, 300); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-estimate]").forEach(follow);
  });
})();
