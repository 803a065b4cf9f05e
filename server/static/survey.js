// Progressive enhancement only: every page works without this file.
// Read-aloud uses the browser's own speech synthesis; nothing leaves the device
// and nothing is stored.
(function () {
  "use strict";
  // Idle timeout: on a shared device an unattended survey closes itself, after
  // a warning a minute before that any touch or key press dismisses. Answers
  // already saved are kept; the server ends an idle session on its own too.
  var body = document.body;
  var idle = parseInt(body.getAttribute("data-idle-seconds") || "0", 10);
  if (idle > 0) {
    var warnAfter = Math.max(idle - 60, Math.floor(idle / 2));
    var warnTimer = null;
    var endTimer = null;
    var notice = null;
    var reset = function () {
      clearTimeout(warnTimer);
      clearTimeout(endTimer);
      if (notice) { notice.remove(); notice = null; }
      warnTimer = setTimeout(warn, warnAfter * 1000);
      endTimer = setTimeout(function () { window.location.replace("/timeout"); }, idle * 1000);
    };
    var warn = function () {
      notice = document.createElement("div");
      notice.className = "idle-warning";
      notice.setAttribute("role", "alertdialog");
      notice.setAttribute("aria-live", "assertive");
      var text = document.createElement("p");
      text.textContent = body.getAttribute("data-idle-warning");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button";
      button.textContent = body.getAttribute("data-idle-button");
      button.addEventListener("click", reset);
      notice.appendChild(text);
      notice.appendChild(button);
      body.appendChild(notice);
      button.focus();
    };
    ["keydown", "pointerdown", "input", "scroll"].forEach(function (name) {
      window.addEventListener(name, function () { if (!notice) reset(); }, { passive: true });
    });
    reset();
  }
  if (!("speechSynthesis" in window) || typeof SpeechSynthesisUtterance === "undefined") {
    return;
  }
  var lang = document.documentElement.getAttribute("lang") || "en";
  var buttons = document.querySelectorAll("button.say[data-say]");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].hidden = false;
    buttons[i].addEventListener("click", function (event) {
      event.preventDefault();
      var text = this.getAttribute("data-say");
      window.speechSynthesis.cancel();
      var utterance = new SpeechSynthesisUtterance(text);
      utterance.lang = lang;
      utterance.rate = 0.9;
      window.speechSynthesis.speak(utterance);
    });
  }
  // Stop speaking when the page goes away.
  window.addEventListener("pagehide", function () { window.speechSynthesis.cancel(); });
})();
