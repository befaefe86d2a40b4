/* The patrol page: while it is open, the phone's position is added to the route every few
   minutes (and once on opening). Points that could not be sent wait in localStorage and go
   with the next one; the server counts a point (patrol, time) once. Never blocks the page. */
(function () {
  "use strict";
  var EVERY = 3 * 60 * 1000;
  var state = document.getElementById("route-state");
  if (!state || !("geolocation" in navigator)) return;
  var url = state.dataset.route;
  var key = "fangyi.route." + url;

  function token() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; }
    catch (e) { return ""; }
  }
  function waiting() {
    try { return JSON.parse(localStorage.getItem(key) || "[]"); } catch (e) { return []; }
  }
  function send(points) {
    localStorage.setItem(key, JSON.stringify(points.slice(-500)));
    fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token() },
      body: JSON.stringify({ points: points })
    }).then(function (r) {
      // 200: stored, with the bad points named and kept out; 400: not JSON. Neither is retried.
      if (r.ok || r.status === 400) localStorage.removeItem(key);
      return r.json();
    }).then(function (body) {
      if (body && typeof body.added === "number" && body.added > 0) {
        state.dataset.sent = String((Number(state.dataset.sent) || 0) + body.added);
        state.textContent = state.textContent.replace(/^\d+/, function (n) {
          return String(Number(n) + body.added);
        });
      }
    }).catch(function () { /* offline: the points wait for the next time */ });
  }
  function take() {
    navigator.geolocation.getCurrentPosition(function (p) {
      var points = waiting();
      points.push({
        at: new Date().toISOString(),  // now: a cached fix may predate the patrol
        latitude: Number(p.coords.latitude.toFixed(6)),
        longitude: Number(p.coords.longitude.toFixed(6)),
        accuracy: Math.round(p.coords.accuracy || 0)
      });
      send(points);
    }, function () { /* refused or unavailable: no route, the patrol goes on */ },
    { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  }
  take();
  window.setInterval(function () { if (!document.hidden) take(); }, EVERY);
})();
