/*
 * Starts Swagger UI on /api/v1/docs.
 *
 * This lives in a file rather than in an inline <script> so that the docs page can run
 * under a Content-Security-Policy of script-src 'self' with no 'unsafe-inline': an
 * injected inline script would not run there. The OpenAPI document's URL comes from the
 * data-openapi-url attribute the server writes on the #swagger-ui element, so nothing
 * here depends on where the app is mounted. The options are the ones FastAPI's stock
 * docs page passes (deep links, extensions shown, the standalone preset's layout).
 */
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof SwaggerUIBundle === "undefined") {
    return;
  }
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
})();
