/* The operator's seat: the map pin, the address list, the keys, and taking a ringing call
   into the form. The panels themselves are HTMX fragments the server renders; this file
   only moves values between them. Points are WGS-84 throughout, as the server stores them. */
(function () {
  "use strict";
  var form = document.getElementById("seat-form");
  if (!form) return;
  var f = form.elements;
  var spot = document.getElementById("spot");
  var mapEl = document.getElementById("seat-map");
  var map = null, marker = null;

  function fire(el, type) { el.dispatchEvent(new Event(type, {bubbles: true})); }

  // --- the map ------------------------------------------------------------------------
  function setPin(la, ln, zoom) {
    f.lat.value = la.toFixed(6); f.lng.value = ln.toFixed(6);
    if (map) {
      if (marker) marker.setLatLng([la, ln]); else marker = L.marker([la, ln], {keyboard: false}).addTo(map);
      if (zoom) map.setView([la, ln], Math.max(map.getZoom(), 15));
    }
    if (spot) spot.textContent = (spot.dataset.chosen || "") + f.lat.value + ", " + f.lng.value;
    mapEl && mapEl.setAttribute("data-pinned", f.lat.value + "," + f.lng.value);
    document.body.dispatchEvent(new CustomEvent("seat-pinned"));
  }
  if (mapEl && window.L) {
    // Out of the tab order: the keyboard reaches the place through the address list.
    map = L.map(mapEl, {preferCanvas: true, keyboard: false, attributionControl: !!mapEl.dataset.tiles});
    mapEl.minshengMap = map;
    if (mapEl.dataset.tiles) {
      L.tileLayer(mapEl.dataset.tiles, {maxZoom: 19, attribution: mapEl.dataset.attribution || ""}).addTo(map);
    }
    map.setView([30.7, 121.0], 11);
    mapEl.querySelectorAll(".leaflet-control a").forEach(function (a) { a.tabIndex = -1; });
    var style = {
      city: {color: "#0b3d6e", weight: 2, fill: false},
      town: {color: "#0b5cad", weight: 1.2, fillColor: "#dfe9f5", fillOpacity: 0.35},
      street: {color: "#0b5cad", weight: 1.2, fillColor: "#dfe9f5", fillOpacity: 0.35},
      village: {color: "#6b8fb8", weight: 0.6, dashArray: "3 3", fill: false},
      community: {color: "#6b8fb8", weight: 0.6, dashArray: "3 3", fill: false},
      road: {color: "#d98c1f", weight: 2.5}
    };
    fetch(mapEl.dataset.src, {credentials: "same-origin"}).then(function (r) { return r.json(); })
      .then(function (data) {
        var layer = L.geoJSON(data, {
          style: function (x) { return style[x.properties.kind] || {weight: 1}; },
          interactive: false
        }).addTo(map);
        map.invalidateSize();
        if (!f.lat.value && layer.getBounds().isValid()) map.fitBounds(layer.getBounds(), {animate: false});
        mapEl.setAttribute("data-ready", "1");
      }).catch(function () { mapEl.setAttribute("data-ready", "0"); });
    if (f.lat.value && f.lng.value) setPin(parseFloat(f.lat.value), parseFloat(f.lng.value), true);
    map.on("click", function (e) { setPin(e.latlng.lat, e.latlng.lng, false); });
    window.addEventListener("resize", function () { map.invalidateSize(); });
  }

  // --- the address list (gazetteer) -----------------------------------------------------
  var active = -1;
  function list() { return document.getElementById("place-list"); }
  function options() { var l = list(); return l ? Array.prototype.slice.call(l.querySelectorAll("[role=option]")) : []; }
  function openList(open) {
    var l = list();
    if (l) l.hidden = !open || !options().length;
    f.address.setAttribute("aria-expanded", l && !l.hidden ? "true" : "false");
    if (!open) { active = -1; f.address.removeAttribute("aria-activedescendant"); }
  }
  function highlight(i) {
    var opts = options();
    if (!opts.length) return;
    active = (i + opts.length) % opts.length;
    opts.forEach(function (o, j) { o.setAttribute("aria-selected", j === active ? "true" : "false"); });
    f.address.setAttribute("aria-activedescendant", opts[active].id);
  }
  function pick(opt) {
    var name = opt.dataset.name, typed = f.address.value.trim();
    if (typed.indexOf(name) < 0) f.address.value = name;
    if (opt.dataset.lat) setPin(parseFloat(opt.dataset.lat), parseFloat(opt.dataset.lng), true);
    openList(false);
  }
  document.addEventListener("click", function (e) {
    var opt = e.target.closest && e.target.closest("#place-list [role=option]");
    if (opt) { pick(opt); f.address.focus(); return; }
    var m = e.target.closest && e.target.closest(".pick-matter");
    if (m) { chooseMatter(m); return; }
    var k = e.target.closest && e.target.closest(".kb-pick");
    if (k) { showAnswer(k); return; }
    if (e.target !== f.address) openList(false);
  });
  f.address.addEventListener("keydown", function (e) {
    var l = list(), shown = l && !l.hidden;
    if (e.key === "ArrowDown") { e.preventDefault(); openList(true); highlight(active + 1); }
    else if (e.key === "ArrowUp" && shown) { e.preventDefault(); highlight(active - 1); }
    else if (e.key === "Enter" && shown && (active >= 0 || options().length === 1)) {
      e.preventDefault(); pick(options()[Math.max(active, 0)]);
    } else if (e.key === "Escape" && shown) { e.preventDefault(); openList(false); }
  });

  // --- matters --------------------------------------------------------------------------
  function chooseMatter(btn) {
    f.category.value = btn.dataset.code;
    fire(f.category, "change");
    document.querySelectorAll(".pick-matter").forEach(function (b) { b.classList.toggle("picked", b === btn); });
  }

  // --- taking the ringing call into the form ----------------------------------------------
  var taken = {};
  function takeRinging() {
    var call = document.querySelector("#caller .call[data-linked='0']");
    if (!call || !window.htmx) return;
    var id = call.dataset.callId;
    if (taken[id] || (f.call_id && f.call_id.value === id)) return;
    taken[id] = true;
    var take = call.querySelector("form.take-call");
    if (take) takeCall(take);
  }
  // The panels that poll or refresh replace their buttons; a request is therefore made
  // from the panel its answer goes to, which stays, so that no answer is dropped.
  function takeCall(take) {
    var token = take.querySelector("[name=csrfmiddlewaretoken]").value;
    htmx.ajax("POST", take.action, {target: "#call-taken", swap: "innerHTML", headers: {"X-CSRFToken": token}});
  }
  document.addEventListener("submit", function (e) {
    if (e.target.matches && e.target.matches("form.take-call") && window.htmx) {
      e.preventDefault(); taken[e.target.closest(".call").dataset.callId] = true; takeCall(e.target);
    }
    // An answer panel swapped in a moment ago may not be wired by htmx yet: its form would
    // then submit as a plain GET and lose the answer. Send it the way htmx would.
    if (e.target.matches && e.target.matches("form.answer-actions") && window.htmx && !e.defaultPrevented) {
      e.preventDefault();
      var b = e.submitter;
      htmx.ajax("POST", e.target.getAttribute("hx-post"), {
        source: e.target, target: "#answer", swap: "outerHTML",
        values: b && b.name ? {[b.name]: b.value} : {},
      });
    }
  });
  function showAnswer(btn) {
    htmx.ajax("GET", btn.dataset.url, {target: "#answer", swap: "outerHTML"});
  }
  document.body.addEventListener("htmx:afterSettle", function (e) {
    var t = e.detail && e.detail.elt;
    takeRinging();
    // The call already in the form needs no button to take it.
    document.querySelectorAll("#caller .call").forEach(function (c) {
      var take = c.querySelector("form.take-call");
      if (take) take.hidden = !!f.call_id && f.call_id.value === c.dataset.callId;
    });
    if (t && t.id === "place-list") openList(document.activeElement === f.address);
    if (t && t.id === "answer") { var title = document.getElementById("answer-title"); if (title) title.setAttribute("tabindex", "-1"); }
  });
  takeRinging();

  // --- keys -----------------------------------------------------------------------------
  f.text.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });
  function click(sel) { var b = document.querySelector(sel); if (b && !b.disabled) { b.click(); return true; } return false; }
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") {
      var a = document.getElementById("answer");
      if (a && !a.hidden && !(list() && !list().hidden)) { a.hidden = true; f.text.focus(); }
      return;
    }
    if (!e.altKey || e.ctrlKey || e.metaKey) return;
    var done = false, c = e.code;
    var digit = {Digit1: 1, Digit2: 2, Digit3: 3}[c];
    var letter = {KeyQ: "Q", KeyW: "W", KeyE: "E"}[c];
    if (digit) done = click(".pick-matter[data-key='" + digit + "']");
    else if (letter) done = click(".kb-pick[data-key='" + letter + "']");
    else if (c === "KeyS") done = click("#answer:not([hidden]) #answer-sms");
    else if (c === "KeyD") done = click("#answer:not([hidden]) #answer-close");
    else if (c === "KeyA") done = click("#caller form.take-call button");
    else if (c === "KeyP") { f.address.focus(); done = true; }
    if (done) e.preventDefault();
  });
})();
