// The reset page's only script: it takes the token out of the address bar (it stays in the
// form), and says what is wrong with the new password while it is typed. The page works the
// same without it; the server checks everything again.
(function () {
  "use strict";
  if (window.location.search.indexOf("token=") !== -1) {
    window.history.replaceState(null, "", window.location.pathname);
  }
  var form = document.getElementById("reset-form");
  if (!form) {
    return;
  }
  var password = document.getElementById("password");
  var confirmation = document.getElementById("confirm");
  var feedback = document.getElementById("feedback");
  var minLength = parseInt(form.getAttribute("data-min-length"), 10) || 12;
  var serverMessage = feedback.textContent;

  function problem() {
    var length = Array.from(password.value).length;
    if (length > 0 && length < minLength) {
      return form.getAttribute("data-too-short");
    }
    if (confirmation.value.length > 0 && confirmation.value !== password.value) {
      return form.getAttribute("data-mismatch");
    }
    return "";
  }

  function show() {
    var found = problem();
    feedback.textContent = found || serverMessage;
    password.setAttribute("aria-invalid", found ? "true" : "false");
    return found;
  }

  password.addEventListener("input", function () { serverMessage = ""; show(); });
  confirmation.addEventListener("input", function () { serverMessage = ""; show(); });
  form.addEventListener("submit", function (event) {
    var found = show();
    if (!found && confirmation.value !== password.value) {
      found = form.getAttribute("data-mismatch");
      feedback.textContent = found;
    }
    if (found) {
      event.preventDefault();
    }
  });
})();
