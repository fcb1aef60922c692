/* Minsheng sensors: the map of monitoring points, a device's charts, command states.
   Plain script on top of ECharts (served from static); safe to run more than once, so
   that pages and HTMX-swapped fragments can both call initAll(). */
(function () {
  "use strict";
  if (window.MinshengSensors) { return; }

  var COLORS = { online: "#1a7f4b", alarm: "#c0392b", offline: "#8a94a3", unknown: "#b0b8c4" };

  function readJSON(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function fetchJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); });
  }

  function fmt(ms) {
    var d = new Date(ms);
    function p(n) { return (n < 10 ? "0" : "") + n; }
    return p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " + p(d.getHours()) + ":" + p(d.getMinutes());
  }

  /* --- charts: one small chart per quantity, zoomed together --------------------------- */
  function charts(el) {
    var cfg = readJSON(el.getAttribute("data-sensor-chart"));
    if (!cfg || !window.echarts) { return; }
    el.setAttribute("data-ready", "1");
    var group = "g" + Math.random().toString(36).slice(2);
    var url = cfg.series_url + "?since=" + cfg.since + "&until=" + cfg.until;
    fetchJSON(url).then(function (data) {
      el.innerHTML = "";
      if (!data.t.length) {
        el.innerHTML = "<p class='muted'>" + (el.getAttribute("data-empty") || "") + "</p>";
        return;
      }
      cfg.quantities.forEach(function (q) {
        var values = data[q.code];
        if (!values || !values.some(function (v) { return v !== null; })) { return; }
        var box = document.createElement("div");
        box.className = "sensor-chart";
        el.appendChild(box);
        var points = data.t.map(function (t, i) { return [t, values[i]]; });
        var areas = cfg.alarms.filter(function (a) { return a.quantity === q.code || a.quantity === ""; })
          .map(function (a) {
            return [{ xAxis: Date.parse(a.condition_since), name: a.rule_label },
                    { xAxis: a.cleared_at ? Date.parse(a.cleared_at) : cfg.until }];
          });
        var lines = [];
        if (q.range) {
          if (q.range[0] !== null && q.range[0] !== undefined) { lines.push({ yAxis: q.range[0] }); }
          if (q.range[1] !== null && q.range[1] !== undefined) { lines.push({ yAxis: q.range[1] }); }
        }
        var chart = window.echarts.init(box);
        chart.group = group;
        chart.setOption({
          animation: false,
          title: { text: q.label + (q.unit ? " (" + q.unit + ")" : ""), left: 0, top: 0,
                   textStyle: { fontSize: 13, fontWeight: 600 } },
          grid: { left: 48, right: 16, top: 28, bottom: 28 },
          tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : v; } },
          xAxis: { type: "time", min: cfg.since, max: cfg.until,
                   axisLabel: { formatter: function (v) { return fmt(v); }, hideOverlap: true } },
          yAxis: { type: "value", scale: true, splitLine: { lineStyle: { color: "#eef1f4" } } },
          dataZoom: [{ type: "inside" }],
          series: [{
            type: "line", data: points, showSymbol: false, sampling: "lttb", connectNulls: false,
            lineStyle: { width: 1.5 },
            markArea: { silent: true, itemStyle: { color: "rgba(192,57,43,0.12)" },
                        label: { show: false }, data: areas },
            markLine: { silent: true, symbol: "none", lineStyle: { type: "dashed", color: "#c77700" },
                        data: lines, label: { show: false } }
          }]
        });
        window.addEventListener("resize", function () { chart.resize(); });
      });
      window.echarts.connect(group);
    }).catch(function () {
      el.innerHTML = "<p class='muted'>" + (el.getAttribute("data-error") || "") + "</p>";
    });
  }

  /* --- the map: town boundaries and the devices, refreshed every 5 s ------------------- */
  function map(el) {
    var cfg = readJSON(el.getAttribute("data-sensor-map"));
    if (!cfg || !window.echarts) { return; }
    el.setAttribute("data-ready", "1");
    window.echarts.registerMap("minsheng-city", cfg.shapes);
    var chart = window.echarts.init(el);
    function points(devices) {
      return devices.map(function (d) {
        return { name: d.name, value: [d.lng, d.lat], device: d,
                 itemStyle: { color: COLORS[d.status] || COLORS.unknown },
                 symbolSize: d.status === "alarm" ? 16 : 11 };
      });
    }
    chart.setOption({
      animation: false,
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          if (!p.data || !p.data.device) { return p.name || ""; }
          var d = p.data.device, rows = [d.name + " · " + d.status_label];
          Object.keys(d.last_values || {}).forEach(function (k) {
            rows.push(((d.labels || {})[k] || k) + ": " + d.last_values[k] + " " + ((d.units || {})[k] || ""));
          });
          (d.active_alarms || []).forEach(function (a) { rows.push("⚠ " + a.message); });
          return rows.join("<br>");
        }
      },
      geo: { map: "minsheng-city", roam: true, label: { show: true, fontSize: 10, color: "#5b6675" },
             itemStyle: { areaColor: "#f4f7fa", borderColor: "#b9c4d0" },
             emphasis: { itemStyle: { areaColor: "#e8eef5" }, label: { show: true } } },
      series: [{ type: "scatter", coordinateSystem: "geo", data: points(cfg.devices),
                 label: { show: false }, emphasis: { scale: 1.4 } }]
    });
    chart.on("click", function (p) { if (p.data && p.data.device) { window.location = p.data.device.url; } });
    window.addEventListener("resize", function () { chart.resize(); });
    if (cfg.url) {
      setInterval(function () {
        fetchJSON(cfg.url).then(function (data) {
          chart.setOption({ series: [{ data: points(data.devices) }] });
          var table = document.querySelector("[data-sensor-rows]");
          data.devices.forEach(function (d) {
            var row = table && table.querySelector("[data-device='" + d.device_id + "']");
            if (!row) { return; }
            var s = row.querySelector("[data-status]");
            if (s) { s.className = "badge sensor-" + d.status; s.textContent = s.getAttribute("data-" + d.status) || d.status; }
            var v = row.querySelector("[data-values]");
            if (v) {
              v.textContent = Object.keys(d.last_values || {}).map(function (k) {
                return ((d.labels || {})[k] || k) + " " + d.last_values[k] + " " + ((d.units || {})[k] || "");
              }).join(" · ");
            }
          });
        }).catch(function () {});
      }, 5000);
    }
  }

  /* --- commands: poll the ones still open until the device answers or time runs out --- */
  function poll(el) {
    el.setAttribute("data-ready", "1");
    var url = el.getAttribute("data-command-url");
    var timer = setInterval(function () {
      fetchJSON(url).then(function (c) {
        var badge = el.querySelector("[data-command-state]");
        if (badge) { badge.textContent = c.state_label; badge.className = "badge cmd-" + c.state; }
        if (c.state === "acked" || c.state === "failed") {
          clearInterval(timer);
          var why = el.querySelector("[data-command-reason]");
          if (why) { why.textContent = c.reason || ""; }
        }
      }).catch(function () { clearInterval(timer); });
    }, 1500);
  }

  function initAll(root) {
    root = root || document;
    root.querySelectorAll("[data-sensor-chart]:not([data-ready])").forEach(charts);
    root.querySelectorAll("[data-sensor-map]:not([data-ready])").forEach(map);
    root.querySelectorAll("[data-command-url]:not([data-ready])").forEach(poll);
  }

  window.MinshengSensors = { initAll: initAll };
  document.addEventListener("htmx:afterSettle", function (e) { initAll(e.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { initAll(); });
  } else {
    initAll();
  }
})();
