// Haven operator console: progressive enhancement only. Every page and form works without
// this script; with it, an intel upload shows a progress bar while the file is sent.
"use strict";

function enhanceUpload(form) {
  const bar = form.querySelector("[data-progress]");
  const text = form.querySelector("[data-progress-text]");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.responseType = "document";
    bar.hidden = false;
    text.hidden = false;
    text.textContent = "Uploading…";
    request.upload.addEventListener("progress", (progress) => {
      if (progress.lengthComputable) {
        bar.value = Math.round((100 * progress.loaded) / progress.total);
        text.textContent = `Uploading… ${bar.value}%`;
      }
    });
    request.upload.addEventListener("load", () => {
      bar.value = 100;
      text.textContent = "Uploaded; reading and importing the indicators…";
    });
    request.addEventListener("load", () => {
      const page = request.response;
      if (!page || !page.body) {
        text.textContent = `The server answered ${request.status}; nothing to show.`;
        return;
      }
      // The result is a whole console page: show it in place of this one.
      document.title = page.title;
      document.body.replaceWith(document.adoptNode(page.body));
    });
    request.addEventListener("error", () => {
      text.textContent = "The upload failed: the server could not be reached.";
    });
    request.send(new FormData(form));
  });
}

document.querySelectorAll("form[data-upload]").forEach(enhanceUpload);
