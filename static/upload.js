// Upload progress for the Media page's htmx form (a file, because the CSP allows no inline script).
(function () {
  "use strict";
  function parts(event) {
    const form = event.target.closest && event.target.closest("#upload-form");
    if (!form) return null;
    return { bar: form.querySelector("#upload-progress"), status: form.querySelector("#upload-status") };
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    const p = parts(event);
    if (!p) return;
    p.bar.hidden = false;
    p.bar.value = 0;
    p.status.textContent = "Uploading…";
  });
  document.addEventListener("htmx:xhr:progress", function (event) {
    const p = parts(event);
    if (!p || !event.detail.lengthComputable) return;
    const percent = Math.round((event.detail.loaded / event.detail.total) * 100);
    p.bar.value = percent;
    p.status.textContent = percent < 100 ? "Uploading… " + percent + "%" : "Saving the files…";
  });
  document.addEventListener("htmx:responseError", function (event) {
    const p = parts(event);
    if (!p) return;
    p.bar.hidden = true;
    const code = event.detail.xhr.status;
    p.status.textContent = code === 413
      ? "The upload is larger than 4 GB, so it was refused. Upload fewer or smaller files."
      : "The upload failed (error " + code + "). Nothing was saved; please try again.";
  });
  document.addEventListener("htmx:sendError", function (event) {
    const p = parts(event);
    if (!p) return;
    p.bar.hidden = true;
    p.status.textContent = "The connection was lost during the upload. Nothing was saved; please try again.";
  });
})();
