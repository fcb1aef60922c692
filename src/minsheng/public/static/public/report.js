/* The report page: the city's boundaries and roads drawn from /report/map.json on a
   Leaflet map (no tiles unless a tile URL is configured), a tap sets the spot, "use my
   location" asks the phone. Points are WGS-84 throughout, as the server stores them. */
(function () {
  "use strict";
  var zh = document.documentElement.lang.indexOf("zh") === 0;
  var T = {
    chosen: zh ? "已选位置：" : "Spot chosen: ",
    locating: zh ? "正在获取位置…" : "Getting your position…",
    noGeo: zh ? "无法获取位置，请在地图上点选或填写地址。" : "No position: tap the map or type the address.",
    wait: zh ? "秒后可提交" : " s until you can send"
  };
  var form = document.getElementById("report-form");
  var el = document.getElementById("map");
  if (!form) return;
  var lat = form.elements.lat, lng = form.elements.lng;
  var spot = document.getElementById("spot");

  // The friction step: the send button opens when the wait is over (the server checks).
  var wait = parseInt(form.getAttribute("data-wait") || "0", 10);
  if (wait > 0) {
    var send = document.getElementById("send"), label = send.textContent, left = wait;
    send.disabled = true;
    var tick = function () {
      if (left <= 0) { send.disabled = false; send.textContent = label; return; }
      send.textContent = left + T.wait; left -= 1; setTimeout(tick, 1000);
    };
    tick();
  }

  if (!el || !window.L) return;
  var map = L.map(el, {preferCanvas: true, zoomControl: true, attributionControl: !!el.dataset.tiles});
  el.minshengMap = map;  // for tests and for a page that wants to move it
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, {maxZoom: 19, attribution: el.dataset.attribution || ""}).addTo(map);
  }
  map.setView([30.7, 121.0], 12);
  // Phones settle their layout after the first paint: measure the map again then.
  window.addEventListener("load", function () { map.invalidateSize(); });
  window.addEventListener("resize", function () { map.invalidateSize(); });
  var marker = null;
  function place(la, ln, zoom) {
    lat.value = la.toFixed(6); lng.value = ln.toFixed(6);
    if (marker) marker.setLatLng([la, ln]); else marker = L.marker([la, ln]).addTo(map);
    if (zoom) map.setView([la, ln], Math.max(map.getZoom(), 16));
    spot.textContent = T.chosen + lat.value + ", " + lng.value;
  }
  var style = {
    city: {color: "#0b3d6e", weight: 2, fill: false},
    town: {color: "#0b5cad", weight: 1.5, fillColor: "#dfe9f5", fillOpacity: 0.35},
    street: {color: "#0b5cad", weight: 1.5, fillColor: "#dfe9f5", fillOpacity: 0.35},
    village: {color: "#6b8fb8", weight: 0.8, dashArray: "3 3", fill: false},
    community: {color: "#6b8fb8", weight: 0.8, dashArray: "3 3", fill: false},
    road: {color: "#d98c1f", weight: 3}
  };
  fetch(el.dataset.src, {credentials: "same-origin"}).then(function (r) { return r.json(); })
    .then(function (data) {
      var layer = L.geoJSON(data, {
        style: function (f) { return style[f.properties.kind] || {weight: 1}; },
        interactive: false
      }).addTo(map);
      map.invalidateSize();
      if (!lat.value && layer.getBounds().isValid()) map.fitBounds(layer.getBounds(), {animate: false});
      el.setAttribute("data-ready", "1");
    }).catch(function () { el.setAttribute("data-ready", "0"); });
  if (lat.value && lng.value) place(parseFloat(lat.value), parseFloat(lng.value), true);
  map.on("click", function (e) { place(e.latlng.lat, e.latlng.lng, false); });

  var locate = document.getElementById("locate");
  if (locate && navigator.geolocation) {
    locate.hidden = false;
    locate.addEventListener("click", function () {
      spot.textContent = T.locating;
      navigator.geolocation.getCurrentPosition(function (p) {
        place(p.coords.latitude, p.coords.longitude, true);
      }, function () { spot.textContent = T.noGeo; },
      {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
    });
  }
})();
