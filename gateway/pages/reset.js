// The reset pages' only script. It takes the token out of the address bar (the form keeps it
// in a hidden field), and says what is wrong with the new password while it is typed: too
// short (a hint only: the server's policy decides) or not matching (which also stops the
// submit). The pages work the same without it; the server checks everything again.
(function () {
  "use strict";
  if (/[?&]token=/.test(window.location.search)) {
    window.history.replaceState(null, "", window.location.pathname);
  }
  var form = document.getElementById("reset-form");
  if (!form) {
    return;
  }
  var password = document.getElementById("password");
  var confirmation = document.getElementById("confirm");
  var feedback = document.getElementById("feedback");
  // The token service's minimum, as the server rendered it; without one, only the server judges.
  var minLength = parseInt(form.getAttribute("data-min-length"), 10) || 0;
  // What the server said about the last try, shown until the user types again.
  var serverMessage = feedback.textContent;

  function tooShort() {
    var length = Array.from(password.value).length;
    return length > 0 && length < minLength;
  }

  function mismatch() {
    return confirmation.value.length > 0 && confirmation.value !== password.value;
  }

  function show() {
    var message = serverMessage;
    if (mismatch()) {
      message = form.getAttribute("data-mismatch");
    } else if (tooShort()) {
      message = form.getAttribute("data-too-short");
    }
    // Only a change is written, so a screen reader announces each problem once.
    if (feedback.textContent !== message) {
      feedback.textContent = message;
    }
    password.setAttribute("aria-invalid", String(tooShort() || serverMessage !== ""));
    confirmation.setAttribute("aria-invalid", String(mismatch()));
  }

  function typed() {
    serverMessage = "";
    show();
  }

  password.addEventListener("input", typed);
  confirmation.addEventListener("input", typed);
  form.addEventListener("submit", function (event) {
    if (confirmation.value !== password.value) {
      event.preventDefault();
      feedback.textContent = form.getAttribute("data-mismatch");
      confirmation.setAttribute("aria-invalid", "true");
      confirmation.focus();
    }
  });
})();
