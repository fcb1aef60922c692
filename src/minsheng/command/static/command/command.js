/* The command centre's screen: the map (the city's vector base from /report/map.json,
   open cases in server-side grid cells per zoom, devices, field workers), the 30-day trend
   in ECharts, and the clock. The feed and the figures are refreshed by htmx (hx-trigger
   "every …") from the server; every figure is a link to its cases. */
(function () {
  "use strict";
  var cfgEl = document.getElementById("cc-config");
  if (!cfgEl) return;
  var cfg = JSON.parse(cfgEl.textContent);
  var zh = document.documentElement.lang.indexOf("zh") === 0;
  var T = {
    cases: zh ? "件在办" : " open",
    urgent: zh ? "件紧急" : " urgent",
    zoomIn: zh ? "点击放大" : "click to zoom in",
    received: zh ? "受理" : "Received",
    stillOpen: zh ? "仍在办" : "Still open",
    worker: zh ? "外勤最后位置" : "Field worker, last position",
    at: zh ? "时间" : "at"
  };

  // --- the clock ---------------------------------------------------------------------------
  var clockEl = document.getElementById("cc-clock");
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var d = new Date();
    clockEl.textContent = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) +
      " " + pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }
  if (clockEl && !document.body.hasAttribute("data-frozen")) { tick(); setInterval(tick, 1000); }

  // --- the map -------------------------------------------------------------------------------
  var el = document.getElementById("cc-map");
  if (el && window.L) {
    var map = L.map(el, {preferCanvas: true, zoomControl: true, attributionControl: false});
    el.minshengMap = map;
    map.setView(cfg.frame || [30.7, 121.0], cfg.frame && document.body.dataset.level !== "city" ? 13 : 11);
    var style = {
      city: {color: "#7fb3ff", weight: 2, fill: false},
      town: {color: "#4d8fd6", weight: 1.2, fillColor: "#0f2a4a", fillOpacity: 0.5},
      street: {color: "#4d8fd6", weight: 1.2, fillColor: "#0f2a4a", fillOpacity: 0.5},
      village: {color: "#2f5f93", weight: 0.6, dashArray: "2 3", fill: false},
      community: {color: "#2f5f93", weight: 0.6, dashArray: "2 3", fill: false},
      road: {color: "#a8742a", weight: 2}
    };
    fetch(cfg.base, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (geo) {
      var base = L.geoJSON(geo, {style: function (f) { return style[f.properties.kind] || {weight: 1}; }, interactive: false}).addTo(map);
      base.bringToBack();
      var frame = cfg.boundary ? L.geoJSON(cfg.boundary, {style: {color: "#ffd166", weight: 3, fill: false}, interactive: false}).addTo(map) : base;
      if (frame.getBounds().isValid()) map.fitBounds(frame.getBounds(), {animate: false, padding: [8, 8]});
      load();
    }).catch(function () { load(); });

    var layer = L.layerGroup().addTo(map);
    var timer = null;
    function radius(n) { return Math.min(28, 7 + 4 * Math.log(1 + n)); }
    function esc(s) { var d = document.createElement("div"); d.textContent = s == null ? "" : String(s); return d.innerHTML; }
    function draw(data) {
      layer.clearLayers();
      data.cells.forEach(function (c) {
        var m = L.circleMarker([c.lat, c.lng], {
          radius: radius(c.n), color: c.urgent ? "#ff4d4f" : "#ffb020", weight: c.urgent ? 3 : 1.5,
          fillColor: "#ff8c1a", fillOpacity: 0.55
        });
        var states = Object.keys(c.states).map(function (s) { return esc(data.states[s]) + " " + c.states[s]; }).join("<br>");
        var html = "<strong>" + c.n + T.cases + "</strong>" + (c.urgent ? " · " + c.urgent + T.urgent : "") + "<br>" + states;
        if (c.url) html += '<br><a href="' + esc(c.url) + '">→</a>';
        m.bindTooltip(html);
        m.on("click", function () {
          if (c.url) { window.location.href = c.url; } else { map.setView([c.lat, c.lng], Math.min(18, map.getZoom() + 2)); }
        });
        if (c.n > 1) {
          m.bindTooltip(html, {permanent: false});
          L.marker([c.lat, c.lng], {icon: L.divIcon({className: "cc-count", html: String(c.n), iconSize: [30, 16]}), interactive: false}).addTo(layer);
        }
        m.addTo(layer);
      });
      data.devices.forEach(function (d) {
        var alarm = d.status === "alarm";
        var m = L.circleMarker([d.lat, d.lng], {
          radius: alarm ? 9 : 6, color: alarm ? "#ff2d55" : "#38d9a9", weight: 2,
          fillColor: alarm ? "#ff2d55" : "#0b7a5c", fillOpacity: 0.9, className: alarm ? "cc-alarm" : "cc-device"
        });
        m.bindTooltip("<strong>" + esc(d.name) + "</strong><br>" + esc(d.status_label) + (d.alarms.length ? "<br>" + d.alarms.map(esc).join("<br>") : ""));
        m.on("click", function () { window.location.href = d.url; });
        m.addTo(layer);
      });
      data.workers.forEach(function (w) {
        var m = L.circleMarker([w.lat, w.lng], {radius: 6, color: "#9b8cff", weight: 2, fillColor: "#5b4bd6", fillOpacity: 0.9});
        m.bindTooltip("<strong>" + esc(w.name) + "</strong><br>" + T.worker + "<br>" + esc(w.at.slice(0, 16).replace("T", " ")) + (w.case ? " · " + esc(w.case) : ""));
        m.addTo(layer);
      });
      el.setAttribute("data-cells", String(data.cells.length));
      el.setAttribute("data-ready", "1");
    }
    function load() {
      var b = map.getBounds();
      var box = [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()].map(function (x) { return x.toFixed(5); }).join(",");
      fetch(cfg.map + "?zoom=" + map.getZoom() + "&bbox=" + box, {credentials: "same-origin"})
        .then(function (r) { return r.json(); }).then(draw).catch(function () {});
    }
    map.on("moveend", function () { clearTimeout(timer); timer = setTimeout(load, 150); });
    setInterval(load, (cfg.mapPoll || 30) * 1000);
    window.addEventListener("resize", function () { map.invalidateSize(); });
  }

  // --- the trend -----------------------------------------------------------------------------
  var trendEl = document.getElementById("cc-trend");
  function drawTrend(points) {
    if (!trendEl || !window.echarts) return;
    var chart = echarts.getInstanceByDom(trendEl) || echarts.init(trendEl, null, {renderer: "canvas"});
    chart.setOption({
      backgroundColor: "transparent",
      grid: {left: 40, right: 12, top: 28, bottom: 24},
      legend: {data: [T.received, T.stillOpen], textStyle: {color: "#cfe3ff"}, top: 0},
      tooltip: {trigger: "axis"},
      xAxis: {type: "category", data: points.map(function (p) { return p.day.slice(5); }), axisLabel: {color: "#9fb8d8"}},
      yAxis: {type: "value", minInterval: 1, axisLabel: {color: "#9fb8d8"}, splitLine: {lineStyle: {color: "#1d3557"}}},
      series: [
        {name: T.received, type: "bar", data: points.map(function (p) { return p.received; }), itemStyle: {color: "#3a86ff"}},
        {name: T.stillOpen, type: "line", data: points.map(function (p) { return p.open; }), itemStyle: {color: "#ffb020"}}
      ]
    }, true);
    chart.off("click");
    chart.on("click", function (e) {
      var p = points[e.dataIndex];
      if (p) window.location.href = e.seriesIndex === 1 ? p.open_url : p.url;
    });
    trendEl.setAttribute("data-ready", "1");
    window.addEventListener("resize", function () { chart.resize(); });
  }
  drawTrend(cfg.trend || []);
  setInterval(function () {
    fetch(cfg.data, {credentials: "same-origin"}).then(function (r) { return r.json(); })
      .then(function (d) { drawTrend(d.trend); }).catch(function () {});
  }, (cfg.panelsPoll || 60) * 1000);
})();
