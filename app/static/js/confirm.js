// Confirmation before an irreversible step (issue 16): a button with data-confirm opens a modal
// <dialog> (focus moves into it, Escape or "Cancel" closes it and returns focus to the button)
// with the sentence saying what will happen; "Yes" posts the form to its own action. Without
// this script the button's formaction sends the form to the server's confirmation page instead.
(function () {
  "use strict";

  var dialog = null;

  function build() {
    dialog = document.createElement("dialog");
    dialog.className = "confirm-dialog";
    dialog.setAttribute("aria-labelledby", "confirm-dialog-title");
    dialog.setAttribute("aria-describedby", "confirm-dialog-text");
    dialog.innerHTML =
      '<h2 class="h5" id="confirm-dialog-title"></h2>' +
      '<p id="confirm-dialog-text"></p>' +
      '<div class="d-flex flex-wrap gap-2 justify-content-end">' +
      '<button type="button" class="btn btn-outline-secondary" data-answer="no"></button>' +
      '<button type="button" class="btn btn-primary" data-answer="yes"></button>' +
      "</div>";
    document.body.appendChild(dialog);
    return dialog;
  }

  function ask(button) {
    var box = dialog || build();
    box.querySelector("#confirm-dialog-title").textContent = button.getAttribute("data-confirm-title");
    box.querySelector("#confirm-dialog-text").textContent = button.getAttribute("data-confirm");
    var yes = box.querySelector("[data-answer=yes]");
    var no = box.querySelector("[data-answer=no]");
    yes.textContent = button.getAttribute("data-confirm-yes");
    no.textContent = button.getAttribute("data-confirm-no");
    yes.onclick = function () {
      box.close();
      var form = button.form;
      button.removeAttribute("formaction");
      button.setAttribute("data-confirmed", "1");
      if (form.requestSubmit) {
        form.requestSubmit(button);
      } else {
        form.action = button.getAttribute("data-confirm-action");
        form.submit();
      }
    };
    no.onclick = function () {
      box.close();
    };
    box.onclose = function () {
      button.focus();
    };
    box.showModal();
    no.focus();
  }

  document.addEventListener(
    "click",
    function (event) {
      var button = event.target.closest ? event.target.closest("button[data-confirm]") : null;
      if (!button || button.getAttribute("data-confirmed") === "1") {
        return;
      }
      if (typeof HTMLDialogElement === "undefined") {
        return; // an old browser: the confirmation page does the job
      }
      event.preventDefault();
      ask(button);
    },
    true
  );
})();
