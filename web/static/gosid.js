// gosid.js only enhances pages that work without it: it adds a show/hide
// button to password fields. Texts come from the page (data-show,
// data-hide), so they follow the page's language.
(function () {
  "use strict";
  var fields = document.querySelectorAll("input[data-password-toggle]");
  Array.prototype.forEach.call(fields, function (input) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "password-toggle";
    button.setAttribute("aria-controls", input.id);
    button.textContent = input.getAttribute("data-show");
    button.addEventListener("click", function () {
      var show = input.type === "password";
      input.type = show ? "text" : "password";
      button.textContent = input.getAttribute(show ? "data-hide" : "data-show");
    });
    // Hide the password again before the form is sent, so the browser
    // does not offer to remember it as plain text.
    if (input.form) {
      input.form.addEventListener("submit", function () {
        input.type = "password";
      });
    }
    input.insertAdjacentElement("afterend", button);
  });
})();
