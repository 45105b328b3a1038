// The test page: keeps 「n / N 問 回答済み」 and the list of unanswered questions current as answers are saved.
// Counts what the server confirmed (each question's save state after its autosave), not what is ticked, so the
// figure never claims an answer that was not stored. Without script the page still works: the server holds back
// a submission with blank questions and lists them.
(function () {
  "use strict";
  var progress = document.getElementById("answer-progress");
  if (!progress) return;
  var total = Number(progress.dataset.total);
  var counter = progress.querySelector(".js-answered");
  var pending = document.querySelector(".unanswered-now");
  var links = pending && pending.querySelector(".js-unanswered-links");

  function refresh() {
    var blanks = [];
    document.querySelectorAll("fieldset.question").forEach(function (fieldset) {
      var answered = fieldset.querySelector(".save-state .saved.ok") !== null;
      fieldset.classList.toggle("unanswered", !answered && fieldset.classList.contains("unanswered"));
      if (!answered) blanks.push(fieldset);
    });
    counter.textContent = String(total - blanks.length);
    progress.classList.toggle("complete", blanks.length === 0);
    if (!links) return;
    links.replaceChildren();
    blanks.forEach(function (fieldset, index) {
      if (index > 0) links.append("、");
      var link = document.createElement("a");
      link.href = "#" + fieldset.id;
      link.textContent = fieldset.querySelector(".qnum").textContent;
      links.append(link);
    });
    pending.hidden = blanks.length === 0;
  }

  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.target.classList && event.target.classList.contains("save-state")) refresh();
  });
  var held = document.getElementById("held-back");
  if (held) held.focus();
  refresh();
})();
