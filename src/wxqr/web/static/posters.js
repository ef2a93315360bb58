// wxqr dashboard: the poster editor's live preview. Each change of the form (debounced)
// posts the draft layout to the preview route and shows the JPEG it answers (as a data:
// URL: the page's Content-Security-Policy allows images from 'self' and data: only).
// The code box and the captions can be dragged on the preview (pointer events: mouse,
// pen, touch): a drag writes the number inputs, which stay the way to type or use the
// keyboard, and the preview follows them like any other change.
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

  // -- dragging on the preview ---------------------------------------------------------
  var artWidth = Number(image.dataset.width);
  var artHeight = Number(image.dataset.height);
  var drag = null;

  function field(name) {
    return form.elements.namedItem(name);
  }

  function number(name) {
    var input = field(name);
    return input ? Number(input.value) || 0 : 0;
  }

  // Artwork pixels per pixel of the preview as shown.
  function ratio() {
    return artWidth / image.getBoundingClientRect().width;
  }

  function pointAt(event) {
    var box = image.getBoundingClientRect();
    var scale = ratio();
    return { x: (event.clientX - box.left) * scale, y: (event.clientY - box.top) * scale };
  }

  // What lies under an artwork point: the code box first, then the captions (a caption's
  // box is its width and one line of its font size).
  function targetAt(point) {
    var size = number("code_size");
    var x = number("code_x");
    var y = number("code_y");
    if (point.x >= x && point.x <= x + size && point.y >= y && point.y <= y + size) {
      return { x: "code_x", y: "code_y", width: size, height: size };
    }
    for (var n = 0; field("caption_" + n + "_text"); n += 1) {
      var prefix = "caption_" + n + "_";
      if (!field(prefix + "text").value.trim()) {
        continue;
      }
      var left = number(prefix + "x");
      var top = number(prefix + "y");
      var height = number(prefix + "font_size") * 1.3;
      var wide = number(prefix + "width");
      if (point.x >= left && point.x <= left + wide && point.y >= top && point.y <= top + height) {
        return { x: prefix + "x", y: prefix + "y", width: wide, height: height };
      }
    }
    return null;
  }

  function clamp(value, high) {
    return Math.max(0, Math.min(Math.round(value), Math.max(0, Math.floor(high))));
  }

  image.draggable = false;
  image.style.touchAction = "none";

  image.addEventListener("pointerdown", function (event) {
    var point = pointAt(event);
    var target = targetAt(point);
    if (!target) {
      return;
    }
    event.preventDefault();
    image.setPointerCapture(event.pointerId);
    drag = {
      target: target,
      start: point,
      x: number(target.x),
      y: number(target.y),
    };
  });

  image.addEventListener("pointermove", function (event) {
    var point = pointAt(event);
    if (!drag) {
      image.style.cursor = targetAt(point) ? "move" : "";
      return;
    }
    var target = drag.target;
    field(target.x).value = clamp(drag.x + point.x - drag.start.x, artWidth - target.width);
    field(target.y).value = clamp(drag.y + point.y - drag.start.y, artHeight - target.height);
    form.dispatchEvent(new Event("input", { bubbles: true }));
  });

  function drop(event) {
    if (drag && image.hasPointerCapture(event.pointerId)) {
      image.releasePointerCapture(event.pointerId);
    }
    drag = null;
  }

  image.addEventListener("pointerup", drop);
  image.addEventListener("pointercancel", drop);
})();
