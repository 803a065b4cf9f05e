// Progressive enhancement only: every page works without this file.
// Read-aloud uses the browser's own speech synthesis; nothing leaves the device
// and nothing is stored.
(function () {
  "use strict";
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
