// A page opened straight from disk (file://) may not import ES modules, so the module script
// that normally renders the diagrams never runs there. In that case render them here with the
// global mermaid object from mermaid.min.js.
window.addEventListener("load", () => {
  if (window.runMermaid || !window.mermaid) {
    return;
  }
  window.mermaid.initialize({ startOnLoad: false });
  window.mermaid.run({ querySelector: ".mermaid" });
});
