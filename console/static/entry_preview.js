// The entry form's live preview: as the editor types the answer or the law references,
// show the reply exactly as a resident will read it and its size against WeChat's limit.
// The server renders it (POST preview.json) with the same function that answers residents.
// Text goes in with textContent only; nothing from the server is parsed as HTML.
(function () {
  "use strict";
  var form = document.querySelector("form.entry-form[data-preview-url]");
  if (!form) {
    return;
  }
  var answer = form.querySelector("#answer");
  var refs = form.querySelector("#law_refs");
  var token = form.querySelector("input[name=csrf_token]");
  var pane = document.querySelector("#live-preview");
  var reply = document.querySelector("#preview");
  var size = document.querySelector("#preview-bytes");
  var problem = document.querySelector("#preview-problem");
  var timer = null;
  var asked = 0;

  function lines(text) {
    return text.split("\n").map(function (line) { return line.trim(); })
      .filter(function (line) { return line !== ""; });
  }

  function show(data) {
    reply.textContent = data.reply;
    var over = data.bytes > data.max;
    size.textContent = data.bytes + " / " + data.max + " 字节" + (over ? "：超过微信上限" : "");
    size.className = over ? "error" : "muted";
    problem.textContent = data.problem || "";
    problem.hidden = !data.problem;
    pane.hidden = false;
  }

  function refresh() {
    var mine = ++asked;
    fetch(form.dataset.previewUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token.value },
      body: JSON.stringify({ answer: answer.value, law_refs: lines(refs.value) })
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (data) {
      if (data && mine === asked) {
        show(data);
      }
    }).catch(function () {
      // Offline or signed out: the 预览并检查 button still works.
    });
  }

  function soon() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 300);
  }

  answer.addEventListener("input", soon);
  refs.addEventListener("input", soon);
  if (answer.value.trim() !== "") {
    refresh();
  }
}());
