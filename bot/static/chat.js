// The web chat: sends what the resident types (or taps) to POST /api/ask and shows the reply.
// Reply text is always inserted with textContent, never as HTML. Which browser is asking
// travels in the cookie the page set (HttpOnly: this script never sees it).
"use strict";

(function () {
  const api = document.body.dataset.api;
  const feedbackApi = document.body.dataset.feedback;
  const messages = document.getElementById("messages");
  const composer = document.getElementById("composer");
  const input = document.getElementById("input");
  const NETWORK_ERROR = "网络好像出了点问题，消息没有发出去。请检查网络后点“重试”。";
  const QUICK_REPLIES = [
    { hint: "回复“更多”", label: "更多", text: "更多" },
    { hint: "回复“原文”", label: "查看原文", text: "原文" },
    { hint: "都不是？回复0", label: "都不是", text: "0" },
  ];

  let queue = Promise.resolve();

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function scrollToEnd() {
    messages.scrollTop = messages.scrollHeight;
  }

  // Show a new reply from its first line: a long answer is read from the top.
  function scrollToReply(row) {
    messages.scrollTop = row.offsetTop - 8;
  }

  // One message row: avatar and a column holding the bubble (and any buttons under it).
  function addMessage(from) {
    const row = element("div", "msg from-" + from);
    row.append(element("div", "avatar", from === "pufa" ? "法" : "我"));
    const body = element("div", "body");
    row.append(body);
    messages.append(row);
    return { row, body };
  }

  function button(className, label, onClick) {
    const node = element("button", className, label);
    node.type = "button";
    node.addEventListener("click", onClick);
    return node;
  }

  // Only the newest reply's options mean something to the dialogue.
  function retireOldButtons() {
    for (const node of messages.querySelectorAll(".choice, .quick button")) {
      node.disabled = true;
    }
  }

  // The reply text, with each numbered option line turned into a button that sends its number;
  // an option asked in a sentence ("您是想问：…？") gets its button right under that line.
  function fillBubble(bubble, reply) {
    const byNumber = new Map((reply.choices || []).map((choice) => [String(choice.n), choice]));
    let run = [];
    const flush = () => {
      if (run.length) {
        bubble.append(element("span", "text", run.join("\n")));
        run = [];
      }
    };
    for (const line of reply.reply.split("\n")) {
      const number = /^(\d+)\.\s/.exec(line);
      if (number && byNumber.has(number[1])) {
        flush();
        bubble.append(button("choice", line, () => send(number[1])));
        byNumber.delete(number[1]);
      } else {
        run.push(line);
        for (const [n, choice] of byNumber) {
          if (line.includes(choice.question.replace(/[？?]$/, ""))) {
            flush();
            bubble.append(button("choice", n + ". " + choice.question, () => send(n)));
            byNumber.delete(n);
          }
        }
      }
    }
    flush();
    for (const [n, choice] of byNumber) {
      bubble.append(button("choice", n + ". " + choice.question, () => send(n)));
    }
  }

  // 👍/👎 under an entry's answer: one rating per answer, sent to POST /api/feedback.
  function ratingBar(entryId) {
    const bar = element("div", "rating");
    const note = element("span", "rating-note");
    const rate = async (helpful, chosen) => {
      for (const node of bar.querySelectorAll("button")) {
        node.disabled = true;
      }
      chosen.classList.add("chosen");
      try {
        const response = await fetch(feedbackApi, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          // Whose answer it was travels in the page's cookie, as with the questions.
          body: JSON.stringify({ entry_id: entryId, helpful }),
        });
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        note.textContent = helpful ? "谢谢您的反馈！" : "谢谢，我们会改进这条回答。";
      } catch (error) {
        note.textContent = "反馈没有发送成功，请稍后再试。";
        for (const node of bar.querySelectorAll("button")) {
          node.disabled = false;
        }
        chosen.classList.remove("chosen");
      }
    };
    const up = button("", "👍 有用", () => rate(true, up));
    const down = button("", "👎 没用", () => rate(false, down));
    up.setAttribute("aria-label", "这条回答有用");
    down.setAttribute("aria-label", "这条回答没用");
    bar.append(up, down, note);
    return bar;
  }

  function showReply(reply, body) {
    const bubble = element("div", "bubble");
    bubble.dataset.kind = reply.kind;
    fillBubble(bubble, reply);
    body.append(bubble);
    const quick = QUICK_REPLIES.filter((q) => reply.reply.includes(q.hint));
    if (quick.length) {
      const bar = element("div", "quick");
      for (const q of quick) {
        bar.append(button("", q.label, () => send(q.text)));
      }
      body.append(bar);
    }
    if (reply.kind === "answer" && reply.entry_id) {
      body.append(ratingBar(reply.entry_id));
    }
  }

  // The resident's bubble is already there: a retry asks again without repeating it.
  function showError(message, body, text) {
    const bubble = element("div", "bubble error", message);
    body.append(bubble);
    const bar = element("div", "quick");
    bar.append(button("", "重试", () => send(text, true)));
    body.append(bar);
  }

  async function errorMessage(response) {
    let detail = "";
    try {
      const body = await response.json();
      detail = body.detail || body.error || "";
    } catch (error) {
      // Not JSON (a proxy's error page, say): the status is all there is.
    }
    return "抱歉，这条消息没有处理成功（" + response.status + (detail ? " " + detail : "") +
      "）。请稍后点“重试”。";
  }

  async function ask(text) {
    const { row, body } = addMessage("pufa");
    const typing = element("div", "bubble");
    typing.setAttribute("aria-label", "正在输入");
    const dots = element("div", "typing");
    dots.append(element("span"), element("span"), element("span"));
    typing.append(dots);
    body.append(typing);
    scrollToEnd();
    try {
      const response = await fetch(api, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        // No user: the page's HttpOnly cookie tells the dialogue which browser is asking.
        body: JSON.stringify({ text }),
      });
      typing.remove();
      if (response.ok) {
        showReply(await response.json(), body);
      } else {
        showError(await errorMessage(response), body, text);
      }
    } catch (error) {
      typing.remove();
      showError(NETWORK_ERROR, body, text);
    }
    scrollToReply(row);
  }

  // Show the resident's message (unless silent) and queue the question, so replies keep order.
  function send(text, silent) {
    retireOldButtons();
    if (!silent) {
      addMessage("resident").body.append(element("div", "bubble", text));
      scrollToEnd();
    }
    queue = queue.then(() => ask(text));
    return queue;
  }

  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (text) {
      input.value = "";
      send(text);
    }
    input.focus();
  });

  for (const topic of document.querySelectorAll("#menu button")) {
    topic.addEventListener("click", () => send(topic.dataset.text));
  }

  // Greet like the account greets a new follower.
  send("你好", true);
})();
