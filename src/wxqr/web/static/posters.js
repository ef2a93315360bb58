// wxqr dashboard: the poster editor's live preview. Each change of the form (debounced)
// posts the draft layout to the preview route and shows the JPEG it answers (as a data:
// URL: the page's Content-Security-Policy allows images from 'self' and data: only).
(function () {
  "use strict";

  var form = document.getElementById("poster-editor");
  var image = document.getElementById("poster-preview");
  var problem = document.getElementById("preview-error");
  if (!form || !image) {
    return;
  }
  var timer = null;
  var sent = 0;

  function show(blob, number) {
    var reader = new FileReader();
    reader.onload = function () {
      if (number === sent) {
        image.src = reader.result;
      }
    };
    reader.readAsDataURL(blob);
  }

  function refresh() {
    sent += 1;
    var number = sent;
    var body = new URLSearchParams(new FormData(form));
    fetch(form.dataset.preview, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          return response.text().then(function (text) {
            throw new Error(text);
          });
        }
        return response.blob();
      })
      .then(function (blob) {
        problem.hidden = true;
        show(blob, number);
      })
      .catch(function (error) {
        problem.textContent = error.message;
        problem.hidden = false;
      });
  }

  form.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 350);
  });
})();
