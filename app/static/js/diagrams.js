// Draws the workflow diagrams (mermaid source in <pre class="mermaid">, generated on the server
// from the workflow definitions). A diagram inside a closed <details> is drawn when first opened,
// since mermaid cannot measure text in a hidden element.
(function () {
  "use strict";
  if (!window.mermaid) {
    return;
  }
  window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "neutral" });

  function draw(nodes) {
    var pending = Array.prototype.filter.call(nodes, function (node) {
      return !node.hasAttribute("data-processed");
    });
    if (pending.length) {
      window.mermaid.run({ nodes: pending });
    }
  }

  function visible(node) {
    var details = node.closest("details");
    return !details || details.open;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var all = document.querySelectorAll("pre.mermaid");
    draw(Array.prototype.filter.call(all, visible));
    document.querySelectorAll("details").forEach(function (details) {
      details.addEventListener("toggle", function () {
        if (details.open) {
          draw(details.querySelectorAll("pre.mermaid"));
        }
      });
    });
  });
})();
