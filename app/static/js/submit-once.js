// A form posts once: after the first submit its submit buttons are disabled, so that a double
// click does not send it twice. Applies to every POST form except the autosaving ones (their own
// script sequences the saves) and those marked data-submit-many. The server still refuses an
// identical second entry (the real guard); this only spares the round trip.
(function () {
  "use strict";

  var RELEASE_MS = 10000; // a download or a slow answer leaves the page: allow a retry later

  function buttonsOf(form) {
    var inside = Array.prototype.slice.call(
      form.querySelectorAll("button:not([type=button]):not([type=reset]), input[type=submit]")
    );
    var outside = form.id
      ? Array.prototype.slice.call(document.querySelectorAll("[form='" + form.id + "'][type=submit]"))
      : [];
    return inside.concat(outside);
  }

  function release(buttons) {
    buttons.forEach(function (button) {
      button.disabled = false;
      button.removeAttribute("data-submitted");
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !(form instanceof HTMLFormElement)) {
      return;
    }
    if ((form.getAttribute("method") || "").toLowerCase() !== "post") {
      return;
    }
    if (form.hasAttribute("data-autosave-url") || form.hasAttribute("data-submit-many")) {
      return;
    }
    if (form.hasAttribute("data-submitted")) {
      event.preventDefault(); // a second click before the buttons were disabled
      return;
    }
    form.setAttribute("data-submitted", "");
    var buttons = buttonsOf(form).filter(function (button) { return !button.disabled; });
    // disabled after the browser has read the form: the pressed button's name is still sent
    window.setTimeout(function () {
      buttons.forEach(function (button) {
        button.disabled = true;
        button.setAttribute("data-submitted", "");
      });
      window.setTimeout(function () {
        form.removeAttribute("data-submitted");
        release(buttons);
      }, RELEASE_MS);
    }, 0);
  });

  // "Back" may show the page from the browser's cache with the buttons still disabled.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      Array.prototype.forEach.call(document.querySelectorAll("form[data-submitted]"), function (form) {
        form.removeAttribute("data-submitted");
      });
      release(Array.prototype.slice.call(document.querySelectorAll("[data-submitted]")));
    }
  });
})();
