// Evidence files on the self-assessment form: stop a save that carries a file the server would
// refuse for its size, or a request larger than the server accepts, and say which file; nothing
// typed is lost (the page stays). The server checks again; this only saves a round trip.
(function () {
  "use strict";
  document.querySelectorAll("form[data-file-limit]").forEach(function (form) {
    var fileLimit = parseInt(form.dataset.fileLimit, 10);
    var requestLimit = parseInt(form.dataset.requestLimit, 10) || 0;
    var inputs = Array.prototype.slice.call(form.querySelectorAll("input.evidence-input"));
    function tooLarge(input) {
      return Array.prototype.some.call(input.files, function (f) { return f.size > fileLimit; });
    }
    function total() {
      return inputs.reduce(function (sum, input) {
        return sum + Array.prototype.reduce.call(input.files, function (s, f) { return s + f.size; }, 0);
      }, 0);
    }
    inputs.forEach(function (input) {
      input.addEventListener("change", function () {
        input.classList.toggle("is-invalid", tooLarge(input));
      });
    });
    form.addEventListener("submit", function (event) {
      var first = null;
      inputs.forEach(function (input) {
        var bad = tooLarge(input);
        input.classList.toggle("is-invalid", bad);
        if (bad && !first) { first = input; }
      });
      if (!first && requestLimit && total() > requestLimit * 0.95) {
        first = inputs.find(function (input) { return input.files.length > 0; }) || null;
        if (first) { first.classList.add("is-invalid"); }
      }
      if (first) {
        event.preventDefault();
        first.focus();
      }
    });
  });
})();
