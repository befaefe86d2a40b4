/* Support requests and the dispatch board: every timer ticks once a second, in the browser.
   The server's time (data-now on the nearest [data-timers]) corrects the phone's clock; the
   HTMX poll replaces the lists, and the next tick picks the new timers up. No library. */
(function () {
  "use strict";
  var offsets = new WeakMap();

  function pad(n) { return n < 10 ? "0" + n : "" + n; }

  function clock(s) {
    s = Math.floor(Math.abs(s));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), x = s % 60;
    return h ? h + ":" + pad(m) + ":" + pad(x) : m + ":" + pad(x);
  }

  function offsetOf(root) {
    var seen = offsets.get(root);
    var now = root.getAttribute("data-now");
    if (!seen || seen.now !== now) {
      seen = { now: now, offset: parseInt(now, 10) - Date.now() / 1000 };
      offsets.set(root, seen);
    }
    return seen.offset;
  }

  function tick() {
    document.querySelectorAll("[data-timers]").forEach(function (root) {
      var now = Date.now() / 1000 + offsetOf(root);
      root.querySelectorAll(".timer").forEach(function (el) {
        var due = el.getAttribute("data-due"), since = el.getAttribute("data-since"), text;
        if (due) {
          var left = parseInt(due, 10) - now;
          var over = left < 0;
          text = (over ? root.dataset.over : root.dataset.left).replace("{t}", clock(left));
          el.classList.toggle("over", over);
          var row = el.closest(".b-row");
          if (row) row.classList.toggle("over", over);
        } else if (since) {
          text = root.dataset.ago.replace("{t}", clock(now - parseInt(since, 10)));
        }
        if (text && el.textContent !== text) el.textContent = text;
      });
    });
  }

  setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSettle", tick);
})();
