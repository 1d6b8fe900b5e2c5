// Where the ipywidgets HTML manager (widgets/embed-amd.js) finds its fonts: beside it, in _static/widgets/,
// not on a CDN or under the page's folder. Loaded after widgets/require.js and before widgets/embed-amd.js
// (nb_ipywidgets_js in _config.yml).
(function () {
  var base = new URL("widgets/", document.currentScript.src).href;
  window.__jupyter_widgets_assets_path__ = base;
  if (window.requirejs) {
    window.requirejs.config({ paths: { "@jupyter-widgets/html-manager/dist": base.replace(/\/$/, "") } });
  }
})();
