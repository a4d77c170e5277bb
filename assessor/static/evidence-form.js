// The record-evidence form, made quicker where scripts run (it works without them):
// - Enter in a one-line field never sends the whole observation;
// - "Find a criterion or item" narrows the checklist by number or words;
// - each group's "(n mapped)" counts what is chosen as it is chosen.
(function () {
  var form = document.querySelector("form.evidence-form");
  if (!form) return;

  form.addEventListener("keydown", function (event) {
    var field = event.target;
    if (event.key === "Enter" && field.tagName === "INPUT" && field.type !== "submit" && field.type !== "button") {
      event.preventDefault();
    }
  });

  function count(group) {
    var chosen = group.querySelectorAll('input[type="radio"]:checked:not([value=""])').length;
    var shown = group.querySelector("[data-mapped]");
    if (shown) shown.textContent = String(chosen);
  }
  form.querySelectorAll("details.checklist-group").forEach(function (group) {
    group.addEventListener("change", function () { count(group); });
  });

  var finder = form.querySelector("[data-find]");
  if (!finder) return;
  finder.hidden = false;
  var box = finder.querySelector("input");
  var showMet = form.querySelector("#show-met");
  box.addEventListener("input", function () {
    var words = box.value.trim().toLowerCase();
    if (showMet && words) showMet.checked = true; // search everything, satisfied or not
    form.querySelectorAll("details.checklist-group").forEach(function (group) {
      var any = false;
      group.querySelectorAll("fieldset.checklist-target").forEach(function (target) {
        var text = target.querySelector("legend").textContent.toLowerCase();
        var match = !words || text.indexOf(words) !== -1;
        target.hidden = !match;
        any = any || match;
      });
      group.hidden = !any;
      if (words && any) group.open = true;
    });
  });
})();
