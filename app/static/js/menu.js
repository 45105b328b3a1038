// On a narrow screen the manager's and admin's menu (up to ten links) folds behind a メニュー button, so the
// header takes one line instead of four. Without script, or on a wide screen, every link shows as before.
(function () {
  "use strict";
  var button = document.querySelector(".menu-button");
  var nav = document.getElementById("site-nav");
  if (!button || !nav) return;
  document.documentElement.classList.add("menu-ready");
  button.hidden = false;
  function setOpen(open) {
    button.setAttribute("aria-expanded", String(open));
    nav.classList.toggle("open", open);
  }
  button.addEventListener("click", function () {
    setOpen(button.getAttribute("aria-expanded") !== "true");
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && nav.classList.contains("open")) {
      setOpen(false);
      button.focus();
    }
  });
})();
