/* The division picker: any input marked data-divisions gets the divisions of GB/T 2260
   matching what was typed (宜昌, yichang, 4205) in the shared <datalist id="divisions">.
   One listener on the document, so rows added later (another journey) work too. */
(function () {
  "use strict";
  var timer = null, last = "";
  function list() {
    var d = document.getElementById("divisions");
    if (!d) { d = document.createElement("datalist"); d.id = "divisions"; document.body.appendChild(d); }
    return d;
  }
  document.addEventListener("input", function (ev) {
    var el = ev.target;
    if (!el || !el.hasAttribute || !el.hasAttribute("data-divisions")) return;
    var q = el.value.trim();
    if (q === last || q.length < 1) return;
    clearTimeout(timer);
    timer = setTimeout(function () {
      last = q;
      var url = (document.body.dataset.divisionsUrl || "/divisions/options/") + "?q=" + encodeURIComponent(q);
      fetch(url, {credentials: "same-origin"}).then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (html) { if (html) list().innerHTML = html; })
        .catch(function () { /* offline: the field stays free text */ });
    }, 200);
  });
})();
