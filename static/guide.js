// The reviewer's Guide panel: outline the element the current step names, found by its visible
// label (a file, because the CSP allows no inline script).
(function () {
  "use strict";
  function mark() {
    const panel = document.querySelector(".guide-panel");
    if (!panel) return;
    const label = panel.dataset.label;
    document.querySelectorAll(".guide-target").forEach(function (el) { el.classList.remove("guide-target"); });
    if (!label) return;
    const candidates = document.querySelectorAll("main a, main button, main label, main legend, main option, aside.sidebar a, main select");
    for (const el of candidates) {
      if (panel.contains(el)) continue;
      if (el.textContent.trim() === label) {
        const shown = el.tagName === "OPTION" ? el.closest("select") : el;
        shown.classList.add("guide-target");
        return;
      }
    }
  }
  document.addEventListener("DOMContentLoaded", mark);
  document.addEventListener("htmx:afterSettle", mark);
})();
