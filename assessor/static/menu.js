// On a phone the site's menu folds behind one button, so the page starts near the top of the screen. Without
// scripts the menu simply stays open.
(function () {
  var header = document.querySelector(".site-header");
  var button = header && header.querySelector(".menu-button");
  if (!button) return;
  var phone = window.matchMedia("(max-width: 40rem)");
  function fold() {
    header.classList.toggle("folding", phone.matches);
    button.hidden = !phone.matches;
    if (!phone.matches) {
      header.classList.remove("open");
      button.setAttribute("aria-expanded", "false");
    }
  }
  button.addEventListener("click", function () {
    var open = header.classList.toggle("open");
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });
  phone.addEventListener("change", fold);
  fold();
})();
