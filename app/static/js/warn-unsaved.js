// Warns before leaving a page with unsaved changes (the evaluation form).
//
// A form marked data-warn-unsaved asks the browser to confirm leaving the page (beforeunload)
// only when one of its fields changed since the page loaded, or when the server marked it
// data-unsaved (the page shows typed text not yet stored). Submitting the form clears the
// warning, so saving never asks. No library; without JavaScript nothing warns.
(function () {
  "use strict";
  var form = document.querySelector("form[data-warn-unsaved]");
  if (!form) {
    return;
  }
  var changed = form.hasAttribute("data-unsaved");
  var submitting = false;

  function mark() {
    changed = true;
  }
  form.addEventListener("input", mark);
  form.addEventListener("change", mark);
  // on window, so that it runs after the page's other submit handlers: a submit they stopped
  // (e.g. a confirmation dialog that was cancelled) does not clear the warning
  window.addEventListener("submit", function (event) {
    if (event.target === form && !event.defaultPrevented) {
      submitting = true;
    }
  });
  window.addEventListener("beforeunload", function (event) {
    if (!changed || submitting) {
      return undefined;
    }
    event.preventDefault();
    event.returnValue = "";
    return "";
  });
})();
