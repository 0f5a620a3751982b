// Autosave of a form as the person types (the self-assessment sections).
//
// A form with data-autosave-url posts its fields (CSRF token included) to that JSON endpoint
// 1.5 s after the last change, and before the person follows a link away from the page; the
// answer's versions go into the hidden *-base fields so that the next save, or the normal
// "Save draft", is based on what is stored now. The result is announced in the element named by
// data-autosave-status (an aria-live region). Without JavaScript the form's buttons still save.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave-url]");
  if (!form || !window.fetch || !window.FormData) {
    return;
  }
  var url = form.getAttribute("data-autosave-url");
  var status = document.getElementById(form.getAttribute("data-autosave-status"));
  var DELAY = 1500;
  var timer = null;
  var dirty = false;
  var stopped = false;
  var inflight = null;

  function show(text, failed) {
    if (!status) {
      return;
    }
    status.textContent = text;
    status.classList.toggle("text-danger", !!failed);
    status.classList.toggle("text-muted", !failed);
  }

  function payload() {
    var data = new FormData(form);
    data.delete("save");
    data.delete("save_next");
    // files are sent by "Save draft" only: an autosave stores the typed answers
    Array.prototype.forEach.call(form.querySelectorAll("input[type=file]"), function (input) {
      data.delete(input.name);
    });
    return data;
  }

  function apply(answer) {
    var versions = answer.versions || {};
    Object.keys(versions).forEach(function (part) {
      var field = form.elements.namedItem(part + "-base");
      if (field) {
        field.value = versions[part];
      }
    });
    if (answer.base_version && form.elements.namedItem("base_version")) {
      form.elements.namedItem("base_version").value = answer.base_version;
    }
  }

  function post(keepalive) {
    return fetch(url, {
      method: "POST",
      body: payload(),
      credentials: "same-origin",
      keepalive: !!keepalive,
      headers: { Accept: "application/json" },
    });
  }

  // Resolves to true when nothing is left unsaved.
  function save(keepalive) {
    if (inflight) {
      return inflight.then(function () {
        return save(keepalive);
      });
    }
    window.clearTimeout(timer);
    if (stopped || !dirty) {
      return Promise.resolve(!dirty);
    }
    dirty = false;
    show(form.getAttribute("data-saving-text"));
    inflight = post(keepalive)
      .then(function (response) {
        return response.json().then(function (answer) {
          if (response.ok) {
            apply(answer);
            show(answer.message);
            return !dirty;
          }
          dirty = true;
          stopped = response.status === 403 || response.status === 409;
          show(answer.message, true);
          return false;
        });
      })
      .catch(function () {
        dirty = true;
        show(form.getAttribute("data-failed-text"), true);
        return false;
      })
      .finally(function () {
        inflight = null;
      });
    return inflight;
  }

  function changed() {
    dirty = true;
    window.clearTimeout(timer);
    timer = window.setTimeout(save, DELAY);
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", function (event) {
    // the buttons post the whole form: that save replaces the pending one; a save already on
    // its way is awaited first, so that the form carries the versions it stored
    window.clearTimeout(timer);
    if (inflight && form.requestSubmit) {
      event.preventDefault();
      var submitter = event.submitter;
      inflight.then(function () {
        form.requestSubmit(submitter);
      });
      return;
    }
    stopped = true;
  });

  // Following a link (the section list, previous / next) first saves what was typed, and waits
  // for a save already on its way: leaving the page would cancel that request, and what it
  // carries would be lost.
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[href]") : null;
    if (!link || !(dirty || inflight) || stopped || event.defaultPrevented) {
      return;
    }
    if (link.target || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) {
      return;
    }
    if (link.getAttribute("href").charAt(0) === "#") {
      return;
    }
    event.preventDefault();
    save().then(function (ok) {
      if (ok) {
        window.location.assign(link.href);
      }
    });
  });

  // Closing the tab or going back: a last save that outlives the page. A save on its way is
  // cancelled with the page, so what it carried is sent again (the server stores an unchanged
  // answer once: a repeat changes nothing and is never refused).
  window.addEventListener("pagehide", function () {
    if (stopped || !(dirty || inflight)) {
      return;
    }
    if (inflight) {
      window.clearTimeout(timer);
      post(true);
      return;
    }
    save(true);
  });
})();
