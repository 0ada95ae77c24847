// Draws the API reference from /api/v1/openapi.json with the bundled Swagger UI. Requests made from it
// carry the session cookie; writes also need the page's CSRF token, which it adds as X-CSRF-Token.
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  const csrf = document.querySelector('input[name="csrf_token"]');
  window.SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#swagger",
    deepLinking: false,
    requestInterceptor: function (request) {
      if (csrf && request.method && request.method !== "GET") {
        request.headers["X-CSRF-Token"] = csrf.value;
      }
      return request;
    },
  });
});
