// The live tail (/logs/): what htmx cannot do by itself. htmx polls and appends new lines to
// #log-lines; this file keeps the page to the newest maxLines lines (and says how many were
// dropped), scrolls to the bottom while autoscroll is on, and pauses/resumes the polling.
(function () {
  "use strict";
  var lines = document.getElementById("log-lines");
  var configElement = document.getElementById("log-tail-config");
  if (!lines || !configElement) return;
  var config = JSON.parse(configElement.textContent);
  var autoscroll = document.getElementById("log-autoscroll");
  var pauseButton = document.getElementById("log-pause");
  var pausedNote = document.getElementById("log-paused");
  var droppedNote = document.getElementById("log-dropped");
  var dropped = 0;
  var paused = false;

  function lineCount() {
    return lines.getElementsByClassName("log-line").length;
  }

  function trim() {
    var excess = lineCount() - config.maxLines;
    if (excess <= 0) return;
    while (excess > 0 && lines.firstElementChild) {
      var first = lines.firstElementChild;
      if (first.classList.contains("log-line")) {
        excess -= 1;
        dropped += 1;
      }
      lines.removeChild(first);
    }
    droppedNote.textContent = dropped.toLocaleString("en") + " older line" + (dropped === 1 ? " was" : "s were") +
      " dropped: the page keeps the newest " + config.maxLines.toLocaleString("en") + ".";
    droppedNote.classList.remove("hidden");
    lines.dataset.dropped = String(dropped);
  }

  function scrollToEnd() {
    if (autoscroll && autoscroll.checked) lines.scrollTop = lines.scrollHeight;
  }

  new MutationObserver(function (mutations) {
    var added = mutations.some(function (mutation) { return mutation.addedNodes.length > 0; });
    if (!added) return;
    trim();
    scrollToEnd();
  }).observe(lines, { childList: true });

  if (autoscroll) autoscroll.addEventListener("change", scrollToEnd);

  if (pauseButton) {
    pauseButton.addEventListener("click", function () {
      paused = !paused;
      pauseButton.textContent = paused ? "Resume" : "Pause";
      pauseButton.setAttribute("aria-pressed", paused ? "true" : "false");
      pausedNote.classList.toggle("hidden", !paused);
    });
  }

  // While paused, the poller's requests are cancelled; its cursor stays where it was, so the
  // first poll after resuming brings every line that arrived in between.
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var element = event.detail && event.detail.elt;
    if (paused && element && element.id === "log-poller") event.preventDefault();
  });

  trim();
  scrollToEnd();
})();
