// Issuing a licence: only the chosen licence type's fieldset is shown (the others stay in the page,
// hidden, and are ignored by the server). No inline script: the strict CSP loads this file.
"use strict";
(function () {
  function showChosenType() {
    var select = document.getElementById("id_licence_type");
    if (!select) return;
    var chosen = "licence-type-" + select.value;
    document.querySelectorAll("fieldset.licence-type-fields").forEach(function (fieldset) {
      fieldset.hidden = !fieldset.classList.contains(chosen);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var select = document.getElementById("id_licence_type");
    if (!select) return;
    select.addEventListener("change", showChosenType);
    showChosenType();
  });
})();
