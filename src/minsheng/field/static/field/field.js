/* The field worker's phone: position for sorting and arrival, and uploads that can be
   retried on a weak connection without creating a second record (the form carries a key
   chosen before the first try; the server returns the first record for a repeat). */
(function () {
  "use strict";
  var T = {
    locating: document.documentElement.lang.indexOf("zh") === 0 ? "正在获取位置…" : "Getting your position…",
    noGeo: document.documentElement.lang.indexOf("zh") === 0 ? "无法获取位置：请允许本页使用定位后重试。" : "No position: allow location for this page and try again.",
    sending: document.documentElement.lang.indexOf("zh") === 0 ? "正在发送…" : "Sending…",
    failed: document.documentElement.lang.indexOf("zh") === 0 ? "网络不好，发送失败。内容还在，可以重试，不会重复记录。" : "Sending failed (weak connection). Nothing is lost: retry, it will not be recorded twice.",
    retry: document.documentElement.lang.indexOf("zh") === 0 ? "重试" : "Retry"
  };

  function locate(ok, fail) {
    if (!navigator.geolocation) { fail(); return; }
    navigator.geolocation.getCurrentPosition(ok, fail,
      {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
  }

  // The task list: sort by where I am now.
  var sortBtn = document.querySelector("[data-locate]");
  if (sortBtn && navigator.geolocation) {
    sortBtn.hidden = false;
    sortBtn.addEventListener("click", function () {
      var where = document.getElementById("where");
      if (where) where.textContent = T.locating;
      locate(function (p) {
        var q = new URLSearchParams(location.search);
        q.set("lat", p.coords.latitude.toFixed(6));
        q.set("lng", p.coords.longitude.toFixed(6));
        location.search = q.toString();
      }, function () { if (where) where.textContent = T.noGeo; });
    });
  }

  function send(form, data, status, button) {
    status.textContent = T.sending;
    button.disabled = true;
    var old = form.querySelector(".retry");
    if (old) old.remove();
    fetch(form.action, {method: "POST", body: data, credentials: "same-origin",
                        headers: {"Accept": "application/json"}})
      .then(function (r) {
        return r.json().catch(function () { return {ok: false, retry: true}; })
          .then(function (body) { body.status = r.status; return body; });
      })
      .then(function (body) {
        if (body.ok) { location.href = body.url; return; }
        button.disabled = false;
        if (body.status >= 500 || body.retry) { offerRetry(form, data, status, button); return; }
        status.textContent = body.message || "";
        status.className = "status small error";
      })
      .catch(function () { button.disabled = false; offerRetry(form, data, status, button); });
  }

  function offerRetry(form, data, status, button) {
    status.textContent = T.failed;
    status.className = "status small error";
    var again = document.createElement("button");
    again.type = "button";
    again.className = "btn retry";
    again.textContent = T.retry;
    again.addEventListener("click", function () { send(form, data, status, button); });
    status.after(again);
  }

  // Arrival: the phone's position, then the form.
  document.querySelectorAll("form[data-arrive]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var status = form.querySelector(".status");
      var button = form.querySelector("button");
      status.textContent = T.locating;
      locate(function (p) {
        form.elements.lat.value = p.coords.latitude;
        form.elements.lng.value = p.coords.longitude;
        form.elements.accuracy.value = Math.round(p.coords.accuracy || 0);
        send(form, new FormData(form), status, button);
      }, function () { status.textContent = T.noGeo; status.className = "status small error"; });
    });
  });

  // Uploads: the same FormData (same key, same file) is sent again on retry.
  document.querySelectorAll("form[data-upload]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      if (!window.fetch || !window.FormData) return;  // plain form post still works
      e.preventDefault();
      send(form, new FormData(form), form.querySelector(".status"), form.querySelector("button"));
    });
  });
})();
