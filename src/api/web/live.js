// slushpile: live updates. When the server says something changed, this
// page is fetched again and each part marked data-live is replaced by its
// new version, unless the editor is typing in it. Without this script the
// page is the same, one reload behind.
(function () {
  "use strict";
  if (!window.EventSource || !document.querySelector("[data-live]")) {
    return;
  }
  var busy = false;
  var again = false;
  function refresh() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    fetch(location.href, { credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (!html) {
          return;
        }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live]").forEach(function (part) {
          var next = fresh.getElementById(part.id);
          if (next && !part.contains(document.activeElement)) {
            part.replaceWith(document.importNode(next, true));
          }
        });
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  }
  // One stream while the page is loaded and in sight: a browser gives a
  // server only a few connections, and hidden tabs or pages kept for the
  // back button must not hold them. Coming back catches up at once.
  var source = null;
  function listen() {
    if (!source && document.visibilityState === "visible") {
      source = new EventSource("/live");
      source.addEventListener("change", refresh);
    }
  }
  function stop() {
    if (source) {
      source.close();
      source = null;
    }
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      listen();
      refresh();
    } else {
      stop();
    }
  });
  window.addEventListener("pagehide", stop);
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      listen();
      refresh();
    }
  });
  // Opened once the page has loaded, so loading never waits on a stream
  // that does not end.
  if (document.readyState === "complete") {
    setTimeout(listen, 0);
  } else {
    window.addEventListener("load", function () {
      setTimeout(listen, 0);
    });
  }
})();
