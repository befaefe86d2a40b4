/* The door page: take the position from the phone when it gives one, never wait for it. */
(function () {
  "use strict";
  var coords = null;

  function fill() {
    var state = document.getElementById("geo-state");
    if (!coords) return;
    document.querySelectorAll("form[data-geo]").forEach(function (form) {
      form.elements.latitude.value = coords.latitude.toFixed(6);
      form.elements.longitude.value = coords.longitude.toFixed(6);
      form.elements.accuracy.value = Math.round(coords.accuracy || 0);
    });
    if (state && state.dataset.done !== "1") {
      state.dataset.done = "1";
      state.textContent += " ✓ ±" + Math.round(coords.accuracy || 0) + " m";
    }
  }

  function ask() {
    if (!document.querySelector("form[data-geo]") || !("geolocation" in navigator)) return;
    try {
      navigator.geolocation.getCurrentPosition(
        function (p) { coords = p.coords; fill(); },
        function () { /* refused or unavailable: the visit is recorded without it */ },
        { enableHighAccuracy: true, timeout: 20000, maximumAge: 120000 }
      );
    } catch (e) { /* never block the form */ }
  }

  document.addEventListener("DOMContentLoaded", ask);
  document.addEventListener("htmx:afterSettle", function () { fill(); if (!coords) ask(); });
})();
