// Staff pages: the sitting progress page reloads itself every few seconds so
// the counts stay current, unless the person pauses it or is typing in a form.
// Without JavaScript the page offers a refresh link and an opt-in refresh.
(function () {
  "use strict";
  var region = document.getElementById("progress");
  if (!region || !region.hasAttribute("data-refresh")) return;
  var seconds = parseInt(region.getAttribute("data-refresh"), 10) || 20;
  var key = "staff-progress-paused";
  var paused = false;
  try { paused = window.sessionStorage.getItem(key) === "1"; } catch (e) { paused = false; }
  var button = document.getElementById("pause-refresh");
  function label() {
    if (!button) return;
    button.textContent = paused ? "Resume automatic updates" : "Pause automatic updates";
    button.setAttribute("aria-pressed", paused ? "true" : "false");
  }
  if (button) {
    button.hidden = false;
    label();
    button.addEventListener("click", function () {
      paused = !paused;
      try { window.sessionStorage.setItem(key, paused ? "1" : "0"); } catch (e) { /* private mode */ }
      label();
    });
  }
  function busy() {
    var active = document.activeElement;
    if (active && (active.tagName === "INPUT" || active.tagName === "TEXTAREA" || active.tagName === "SELECT")) return true;
    var fields = document.querySelectorAll("input[type=text], input[type=number]");
    for (var i = 0; i < fields.length; i++) {
      if (fields[i].value && fields[i].value !== fields[i].defaultValue) return true;
    }
    return false;
  }
  window.setInterval(function () {
    if (!paused && !busy()) window.location.replace(window.location.pathname + "?auto=js");
  }, seconds * 1000);
})();
