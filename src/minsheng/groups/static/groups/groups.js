// The joint group form: "Add another unit" copies the last assisting row, emptied.
// Registered once, on the document, so panels swapped in by HTMX need nothing.
(function () {
  if (window.minshengGroupRows) return;
  window.minshengGroupRows = true;
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-add-row]");
    if (!button) return;
    var rows = button.closest(".assist-rows").querySelectorAll(".assist-row");
    var last = rows[rows.length - 1];
    var copy = last.cloneNode(true);
    copy.querySelectorAll("input").forEach(function (i) { i.value = ""; });
    copy.querySelectorAll("select").forEach(function (s) { s.selectedIndex = 0; });
    last.after(copy);
    copy.querySelector("select").focus();
  });
})();
