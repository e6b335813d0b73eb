// sphinxcontrib-mermaid imports mermaid as an ES module. The book ships the classic build
// (mermaid.min.js, loaded earlier on the page, defines globalThis.mermaid), so this module
// hands that object over instead of fetching the library from a CDN.
const mermaid = globalThis.mermaid;
if (!mermaid) {
  throw new Error("mermaid.min.js must be loaded before mermaid-local.mjs");
}
export default mermaid;
