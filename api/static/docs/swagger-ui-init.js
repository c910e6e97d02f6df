// Starts Swagger UI on the docs page (templates/swagger_ui.html). A file rather than an inline script, so that
// the page's Content-Security-Policy allows scripts from this site only. The page passes the OpenAPI document's
// URL and OPENAPI_SWAGGER_UI_CONFIG in data attributes.
window.addEventListener("load", function () {
  var container = document.getElementById("swagger-ui-container");
  var config = {
    url: container.dataset.specUrl,
    dom_id: "#swagger-ui-container",
    validatorUrl: null // the default badge loads an image from validator.swagger.io: nothing from elsewhere
  };
  var overrides = JSON.parse(container.dataset.config || "{}");
  for (var name in overrides) {
    config[name] = overrides[name];
  }
  window.ui = SwaggerUIBundle(config);
});
