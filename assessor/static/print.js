// Buttons marked data-print print the page; they stay hidden where scripts do not run.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
