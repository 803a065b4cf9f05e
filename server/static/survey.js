// Progressive enhancement only: every page works without this file.
// Read-aloud uses the browser's own speech synthesis; nothing leaves the device
// and nothing is stored.
(function () {
  "use strict";
  var body = document.body;
  var main = document.getElementById("main");

  // A polite live region for what the script has to tell the pupil: made
  // empty at once, so that a screen reader is already watching it when a
  // message arrives.
  var live = null;
  if (main && !document.getElementById("device-check")) {
    live = document.createElement("div");
    live.className = "live-status";
    live.setAttribute("role", "status");
    main.insertBefore(live, main.firstChild);
  }
  // With `again`, a message already shown is said once more (a second press
  // of a read-aloud button); otherwise it is left alone (each new try of a
  // send while the connection is down).
  var tell = function (text, again) {
    if (!live || !text) return;
    if (live.textContent !== text) {
      live.textContent = text;
    } else if (again) {
      live.textContent = "";
      setTimeout(function () { live.textContent = text; }, 150);
    }
  };

  // Idle timeout: on a shared device an unattended survey closes itself, after
  // a warning a minute before that any touch or key press dismisses. Answers
  // already saved are kept; the server ends an idle session on its own too.
  var idle = parseInt(body.getAttribute("data-idle-seconds") || "0", 10);
  var warnTimer = null;
  var endTimer = null;
  var stopIdle = function () {
    clearTimeout(warnTimer);
    clearTimeout(endTimer);
    idle = 0;
  };
  if (idle > 0) {
    var warnAfter = Math.max(idle - 60, Math.floor(idle / 2));
    var notice = null;
    var reset = function () {
      clearTimeout(warnTimer);
      clearTimeout(endTimer);
      if (notice) { notice.remove(); notice = null; }
      if (idle <= 0) return;
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

  // Weak Wi-Fi: a page form (Next, Back, Stop, Finish) is sent with fetch, so
  // that a send that cannot reach the server is not a browser error page that
  // loses what the pupil chose. The answers stay in this page's memory only
  // (never web storage: the next pupil on a shared device must find
  // nothing), and the same request is sent again until it gets through. The
  // server treats a repeated page save or finish as one, so a send that
  // arrived but whose answer was lost does no harm when it comes again.
  var waiting = body.getAttribute("data-waiting");
  var forms = document.querySelectorAll("form[data-retry]");
  var keepTrying = function (form) {
    var sending = false;
    // The button pressed, for browsers without `event.submitter` (older
    // iPads): without it Back or Stop would be sent as Next.
    var pressed = null;
    form.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("button") : null;
      if (button && button.type === "submit" && form.contains(button)) pressed = button;
    });
    form.addEventListener("submit", function (event) {
      if (!window.fetch || !window.URLSearchParams || !window.FormData) return;
      event.preventDefault();
      if (sending) return;
      sending = true;
      var data = new FormData(form);
      var submitter = event.submitter || pressed;
      if (submitter && submitter.name) data.append(submitter.name, submitter.value);
      var payload = new URLSearchParams(data).toString();
      form.setAttribute("aria-busy", "true");
      var delay = 1000;
      var attempt = function () {
        fetch(form.action, {
          method: "POST",
          body: payload,
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          credentials: "same-origin",
          cache: "no-store",
          redirect: "follow"
        }).then(function (response) {
          // A gateway between here and the server that cannot reach it.
          if (response.status === 502 || response.status === 503 || response.status === 504) {
            throw new Error("the server could not be reached");
          }
          if (response.redirected) {
            window.location.assign(response.url);
            return null;
          }
          return response.text().then(show);
        }).catch(function () {
          tell(waiting);
          setTimeout(attempt, delay);
          delay = Math.min(delay * 2, 8000);
        });
      };
      attempt();
    });
  };
  // A page the server answered with directly (a form with a problem, or an
  // ending) replaces this one, as the browser would have shown it.
  var show = function (html) {
    stopIdle();
    if ("speechSynthesis" in window) window.speechSynthesis.cancel();
    document.open();
    document.write(html);
    document.close();
  };
  for (var f = 0; f < forms.length; f++) keepTrying(forms[f]);

  var speech = "speechSynthesis" in window && typeof SpeechSynthesisUtterance !== "undefined";

  // Voices load after the page, on some browsers only after `voiceschanged`.
  // Waits up to `limit` ms for them, then answers with what there is.
  var whenVoices = function (limit, callback) {
    var voices = window.speechSynthesis.getVoices();
    if (voices.length > 0) { callback(voices); return; }
    var done = false;
    var events = typeof window.speechSynthesis.addEventListener === "function";
    var finish = function () {
      if (done) return;
      done = true;
      if (events) window.speechSynthesis.removeEventListener("voiceschanged", finish);
      callback(window.speechSynthesis.getVoices());
    };
    if (events) window.speechSynthesis.addEventListener("voiceschanged", finish);
    setTimeout(finish, limit);
  };

  // A voice that speaks `lang`: one for exactly that tag, else one for the
  // same language in another region or script (`pl` for `pl-PL`). Never a
  // voice of another language, which would read the words wrongly.
  var voiceFor = function (voices, lang) {
    var norm = function (tag) { return (tag || "").replace(/_/g, "-").toLowerCase(); };
    var want = norm(lang);
    var primary = want.split("-")[0];
    var near = null;
    for (var v = 0; v < voices.length; v++) {
      var have = norm(voices[v].lang);
      if (have === want) return voices[v];
      if (!near && have.split("-")[0] === primary) near = voices[v];
    }
    return near;
  };

  if (document.getElementById("device-check")) {
    deviceCheck();
    return;
  }

  if (!speech) return;
  var lang = document.documentElement.getAttribute("lang") || "en";
  var noVoice = body.getAttribute("data-no-voice");
  var buttons = document.querySelectorAll("button.say[data-say]");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].hidden = false;
    buttons[i].addEventListener("click", function (event) {
      event.preventDefault();
      var text = this.getAttribute("data-say");
      window.speechSynthesis.cancel();
      whenVoices(1500, function (voices) {
        var voice = voiceFor(voices, lang);
        if (!voice) { tell(noVoice, true); return; }
        var utterance = new SpeechSynthesisUtterance(text);
        utterance.voice = voice;
        utterance.lang = voice.lang;
        utterance.rate = 0.9;
        window.speechSynthesis.speak(utterance);
      });
    });
  }
  // Stop speaking when the page goes away.
  window.addEventListener("pagehide", function () { window.speechSynthesis.cancel(); });

  // The device check page (`/check`): that this runs at all shows the
  // script loads. Every line ends green or red, with words that say which.
  function deviceCheck() {
    var list = document.getElementById("device-check");
    var summary = document.getElementById("check-summary");
    var started = Date.now();
    var pending = 2;
    summary.textContent = "Checking…";
    var line = function (name, works, title, detail) {
      var item = list.querySelector('[data-check="' + name + '"]:not(.check-styles-bad)');
      item.className = "check " + (works ? "good" : "bad");
      item.textContent = "";
      var strong = document.createElement("strong");
      strong.textContent = title + ": " + (works ? "works." : "does not work.");
      item.appendChild(strong);
      item.appendChild(document.createTextNode(" " + detail));
    };
    var settle = function () {
      pending -= 1;
      if (pending > 0) return;
      var lines = list.querySelectorAll(".check");
      var shown = 0;
      var good = 0;
      for (var n = 0; n < lines.length; n++) {
        if (window.getComputedStyle(lines[n]).display === "none") continue;
        shown += 1;
        if (lines[n].classList.contains("good")) good += 1;
      }
      var seconds = ((Date.now() - started) / 1000).toFixed(1);
      summary.textContent = "Finished in " + seconds + " seconds: " + good + " of " + shown +
        " lines work." + (good === shown ? " This device is ready." : " Fix the lines that do not work, then check again.");
    };

    // The stylesheet: the red line is hidden by the stylesheet itself.
    var stylesBad = list.querySelector(".check-styles-bad");
    if (window.getComputedStyle(stylesBad).display === "none") {
      stylesBad.remove();
      list.querySelector(".check-styles-ok").hidden = false;
    }

    line("script", true, "Survey script",
      "Read-aloud and waiting for a weak connection are available.");

    var languages = [];
    try { languages = JSON.parse(list.getAttribute("data-languages") || "[]"); } catch (e) { languages = []; }
    if (!speech) {
      line("voice", false, "Read-aloud voice",
        "This browser cannot read aloud. Pupils can still take the survey. To use read-aloud, use an up-to-date browser.");
      settle();
    } else {
      whenVoices(2000, function (voices) {
        var have = [];
        var lack = [];
        languages.forEach(function (l) { (voiceFor(voices, l.code) ? have : lack).push(l.name); });
        var english = voiceFor(voices, "en");
        var listed = (have.length ? " Voices for: " + have.join(", ") + "." : "") +
          (lack.length ? " No voice for: " + lack.join(", ") + " (read-aloud says so to pupils in these languages)." : "");
        if (english) {
          line("voice", true, "Read-aloud voice", "There is an English voice." + listed);
        } else {
          line("voice", false, "Read-aloud voice",
            "This device has no English voice, so read-aloud tells pupils it has no voice. Add a speech voice in the device's settings (or ask your IT support)." + listed);
        }
        settle();
      });
    }

    // The round trip: the median of five requests for an empty answer,
    // each given up after a second.
    var limit = parseInt(list.getAttribute("data-round-trip-limit") || "500", 10);
    var times = [];
    var trip = function (left) {
      if (left === 0) {
        times.sort(function (a, b) { return a - b; });
        var median = times[Math.floor(times.length / 2)];
        if (median <= limit) {
          line("speed", true, "Connection to the server",
            "A round trip takes " + median + " ms (the limit is " + limit + " ms).");
        } else {
          line("speed", false, "Connection to the server",
            "A round trip takes " + median + " ms, over the limit of " + limit +
            " ms: pupils will wait at every page. Move closer to the Wi-Fi point or ask your IT support to check the network.");
        }
        settle();
        return;
      }
      var control = window.AbortController ? new AbortController() : null;
      var timer = setTimeout(function () { if (control) control.abort(); }, 1000);
      var begun = window.performance.now();
      fetch("/check/ping?n=" + left, {
        cache: "no-store",
        credentials: "same-origin",
        signal: control ? control.signal : undefined
      }).then(function (response) {
        clearTimeout(timer);
        if (!response.ok) throw new Error("status " + response.status);
        times.push(Math.round(window.performance.now() - begun));
        trip(left - 1);
      }).catch(function () {
        clearTimeout(timer);
        line("speed", false, "Connection to the server",
          "The server could not be reached within a second. Check the device is on the school network, then check again.");
        settle();
      });
    };
    trip(5);
  }
})();
