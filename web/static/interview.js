/* Interview page: send turns, stream the partner's reply over SSE, show grades as they arrive. */
(function () {
  "use strict";

  var dataNode = document.getElementById("interview-data");
  if (!dataNode) return;
  var data = JSON.parse(dataNode.textContent);
  var R = window.Rapport;

  var transcript = document.getElementById("transcript");
  var form = document.getElementById("composer");
  var textarea = document.getElementById("message");
  var sendButton = document.getElementById("send-button");
  var endButton = document.getElementById("end-button");
  var errorBox = document.getElementById("turn-error");
  var retryButton = document.getElementById("retry-button");
  var charCount = document.getElementById("char-count");
  var emptyHint = document.getElementById("empty-hint");

  var busy = false;
  var pendingRetry = null; // what the Retry button in the error box does next

  // ---- small DOM helpers ----

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function scoreClass(score) {
    if (score === null || score === undefined) return "score-na";
    if (score >= 4) return "score-high";
    if (score >= 3) return "score-mid";
    return "score-low";
  }

  function fmtScore(score) {
    if (score === null || score === undefined) return "N/A";
    return Number.isInteger(score) ? String(score) : score.toFixed(1);
  }

  function rubricTitle(id) {
    return (data.rubric_titles && data.rubric_titles[id]) || id;
  }

  function scrollToEnd() {
    var last = transcript.lastElementChild;
    if (last && last.scrollIntoView) last.scrollIntoView({ block: "nearest" });
  }

  // ---- transcript ----

  function addMessage(mine, text) {
    if (emptyHint) { emptyHint.remove(); emptyHint = null; }
    var li = el("li", "msg " + (mine ? "msg-you" : "msg-ai"));
    li.dataset.speaker = mine ? data.human_side : data.persona_side;
    li.appendChild(el("span", "msg-meta", mine ? "You" : data.persona_name));
    var bubble = el("div", "bubble");
    if (text === null) {
      bubble.appendChild(typingIndicator());
    } else {
      bubble.textContent = text;
    }
    li.appendChild(bubble);
    transcript.appendChild(li);
    scrollToEnd();
    return li;
  }

  function typingIndicator() {
    var t = el("span", "typing");
    t.setAttribute("role", "img");
    t.setAttribute("aria-label", data.persona_name + " is typing");
    t.appendChild(el("span"));
    t.appendChild(el("span"));
    t.appendChild(el("span"));
    return t;
  }

  function setStatus(li, message, retryUrl) {
    var old = li.querySelector(".msg-status");
    if (old) old.remove();
    if (!message) return;
    var status = el("div", "msg-status is-warning");
    status.appendChild(el("span", null, message));
    if (retryUrl) {
      var b = el("button", "btn btn-small", "Retry reply");
      b.type = "button";
      b.dataset.retryUrl = retryUrl;
      status.appendChild(b);
    }
    li.appendChild(status);
  }

  function renderGrades(li, grades, turnIndex) {
    var old = li.querySelector(".grades");
    if (old) old.remove();
    var wait = li.querySelector(".grading-wait");
    if (wait) wait.remove();
    if (!grades || !grades.length) return;
    var wrap = el("div", "grades");
    wrap.dataset.gradesFor = String(turnIndex);
    var chips = el("div", "chips");
    chips.setAttribute("role", "group");
    chips.setAttribute("aria-label", "Grades for this turn");
    wrap.appendChild(chips);
    grades.forEach(function (g, i) {
      var id = "grade-" + turnIndex + "-" + i;
      var title = rubricTitle(g.rubric_id);
      var chip = el("button", "chip " + scoreClass(g.score));
      chip.type = "button";
      chip.setAttribute("aria-expanded", "false");
      chip.setAttribute("aria-controls", id);
      chip.setAttribute(
        "aria-label",
        title + ": " + fmtScore(g.score) + (g.score === null ? "" : " out of 5") + ". Show details"
      );
      chip.appendChild(el("span", null, title));
      chip.appendChild(el("span", "chip-score", fmtScore(g.score)));
      chips.appendChild(chip);

      var detail = el("div", "grade-detail");
      detail.id = id;
      detail.hidden = true;
      detail.appendChild(
        el("h3", null, title + " · " + fmtScore(g.score) + (g.score === null ? "" : "/5"))
      );
      if (g.evidence) detail.appendChild(el("blockquote", null, "“" + g.evidence + "”"));
      if (g.rationale) detail.appendChild(el("p", null, g.rationale));
      if (g.tip) {
        var tip = el("p", "tip");
        tip.appendChild(el("strong", null, "Tip: "));
        tip.appendChild(document.createTextNode(g.tip));
        detail.appendChild(tip);
      }
      detail.appendChild(
        el(
          "p",
          "method",
          g.method === "llm+signals"
            ? "Judged by " + (g.model || "the judge model") + ", bounded by signals"
            : "Scored from conversation signals"
        )
      );
      wrap.appendChild(detail);
    });
    li.appendChild(wrap);
  }

  // One chip open at a time per turn; the panel below the chips shows its details.
  transcript.addEventListener("click", function (event) {
    var chip = event.target.closest(".chip");
    if (chip) {
      var open = chip.getAttribute("aria-expanded") === "true";
      var group = chip.closest(".grades");
      group.querySelectorAll(".chip").forEach(function (c) {
        c.setAttribute("aria-expanded", "false");
        var panel = document.getElementById(c.getAttribute("aria-controls"));
        if (panel) panel.hidden = true;
      });
      if (!open) {
        chip.setAttribute("aria-expanded", "true");
        document.getElementById(chip.getAttribute("aria-controls")).hidden = false;
      }
      return;
    }
    var retry = event.target.closest("[data-retry-url]");
    if (retry && !busy) {
      var li = retry.closest(".msg");
      retryReply(retry.dataset.retryUrl, li);
    }
  });

  // ---- live panel ----

  function wordCount(text) {
    var m = text.trim().match(/\S+/g);
    return m ? m.length : 0;
  }

  function updateTalkShare() {
    var mine = 0;
    var theirs = 0;
    transcript.querySelectorAll(".msg").forEach(function (li) {
      var words = wordCount(li.querySelector(".bubble").textContent);
      if (li.classList.contains("msg-you")) mine += words;
      else theirs += words;
    });
    var total = mine + theirs;
    var value = document.getElementById("talk-share-value");
    var bar = document.getElementById("talk-share-bar");
    if (!total) {
      value.textContent = "–";
      bar.style.width = "0%";
      return;
    }
    var pct = Math.round((100 * mine) / total);
    value.textContent = pct + "%";
    bar.style.width = pct + "%";
  }

  function updateSignals(signals) {
    if (!signals) return;
    var streak = signals.question_streak;
    if (streak === undefined) streak = signals.current_question_streak;
    if (streak !== undefined && streak !== null) {
      document.getElementById("streak-value").textContent = String(streak);
    }
  }

  // ---- composer ----

  function updateCount() {
    if (!charCount) return;
    var n = textarea.value.length;
    charCount.textContent = n.toLocaleString("en") + " / " + data.max_chars.toLocaleString("en");
    charCount.classList.toggle("over", n > data.max_chars);
  }

  function setBusy(value) {
    busy = value;
    transcript.setAttribute("aria-busy", value ? "true" : "false");
    if (sendButton) sendButton.disabled = value;
    if (endButton) endButton.disabled = value;
    if (retryButton) retryButton.disabled = value;
    transcript.querySelectorAll("[data-retry-url]").forEach(function (b) { b.disabled = value; });
  }

  function showError(message, retry) {
    pendingRetry = retry || null;
    errorBox.querySelector("[data-message]").textContent = message;
    retryButton.hidden = !retry;
    errorBox.hidden = false;
  }

  function hideError() {
    errorBox.hidden = true;
    pendingRetry = null;
  }

  function restoreText(text) {
    // Never lose what the person typed: put it back, ahead of anything typed since.
    var current = textarea.value;
    if (current.trim() && current !== text) textarea.value = text + "\n" + current;
    else textarea.value = text;
    updateCount();
    textarea.focus();
  }

  function retryUrlFor(index) {
    return data.turns_url + "/" + index + "/retry";
  }

  // Streams one reply into `aiLi`. `human` tracks the human turn this reply answers.
  async function streamInto(response, aiLi, human) {
    var bubble = aiLi.querySelector(".bubble");
    var streamed = "";
    var outcome = null;

    await window.RapportSSE.read(response, function (event, payload) {
      if (event === "turn") {
        human.saved = true;
        if (human.li) {
          human.li.dataset.index = String(payload.index);
          human.li.classList.remove("msg-pending");
          if (!human.li.querySelector(".grades")) {
            human.li.appendChild(el("span", "grading-wait", "Grading…"));
          }
        }
      } else if (event === "token") {
        if (!streamed) bubble.textContent = "";
        streamed += payload.text || "";
        bubble.textContent = streamed;
        updateTalkShare();
        scrollToEnd();
      } else if (event === "grade") {
        var target = transcript.querySelector('.msg-you[data-index="' + payload.turn_index + '"]');
        if (target) renderGrades(target, payload.grades, payload.turn_index);
        updateSignals(payload.signals);
      } else if (event === "done") {
        // The saved text is the truth: it may differ from the tokens if the reply fell back.
        if (payload.text !== undefined && payload.text !== bubble.textContent) {
          bubble.textContent = payload.text;
        }
        aiLi.dataset.index = String(payload.index);
        setStatus(
          aiLi,
          payload.status && payload.status !== "complete" ? "This reply was interrupted." : null,
          payload.status && payload.status !== "complete" ? retryUrlFor(payload.index) : null
        );
        outcome = { ok: true };
      } else if (event === "error") {
        outcome = {
          ok: false,
          message: payload.message || "The reply could not be generated.",
          retryUrl:
            payload.retry_url ||
            (payload.turn_index !== null && payload.turn_index !== undefined
              ? retryUrlFor(payload.turn_index)
              : null),
          turnIndex: payload.turn_index
        };
      }
    });

    if (!outcome) {
      outcome = {
        ok: false,
        message: "The connection dropped before the reply finished.",
        retryUrl: null
      };
    }
    if (human.li) {
      var wait = human.li.querySelector(".grading-wait");
      if (wait) wait.remove();
    }
    updateTalkShare();
    return outcome;
  }

  function failedReply(aiLi, outcome) {
    var bubble = aiLi.querySelector(".bubble");
    if (bubble.querySelector(".typing")) bubble.textContent = "";
    if (outcome.turnIndex !== null && outcome.turnIndex !== undefined) {
      aiLi.dataset.index = String(outcome.turnIndex);
    }
    if (!bubble.textContent && !outcome.retryUrl) {
      aiLi.remove();
      return;
    }
    setStatus(aiLi, "This reply was interrupted.", outcome.retryUrl);
  }

  async function postTurn(text) {
    var human = { li: addMessage(true, text), saved: false };
    human.li.classList.add("msg-pending");
    var aiLi = addMessage(false, null);
    updateTalkShare();

    function undo(message) {
      human.li.remove();
      aiLi.remove();
      updateTalkShare();
      restoreText(text);
      showError(message, { kind: "send" });
    }

    var response;
    try {
      response = await fetch(data.turns_url, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
        credentials: "same-origin",
        body: JSON.stringify({ text: text })
      });
    } catch (e) {
      undo(R.NETWORK_MESSAGE);
      return;
    }
    if (!response.ok) {
      undo(await R.errorFromResponse(response));
      return;
    }
    if ((response.headers.get("content-type") || "").indexOf("text/event-stream") === -1) {
      window.location.reload();
      return;
    }

    var outcome;
    try {
      outcome = await streamInto(response, aiLi, human);
    } catch (e) {
      outcome = { ok: false, message: "The connection dropped before the reply finished.", retryUrl: null };
    }
    if (outcome.ok) return;
    if (!human.saved) {
      undo(outcome.message);
      return;
    }
    // Your turn is saved; only the reply needs another go.
    failedReply(aiLi, outcome);
    showError(
      outcome.message,
      outcome.retryUrl ? { kind: "reply", url: outcome.retryUrl, li: aiLi } : { kind: "reload" }
    );
  }

  async function retryReply(url, aiLi) {
    hideError();
    setBusy(true);
    var bubble = aiLi.querySelector(".bubble");
    setStatus(aiLi, null);
    bubble.textContent = "";
    bubble.appendChild(typingIndicator());
    try {
      var response;
      try {
        response = await fetch(url, {
          method: "POST",
          headers: { Accept: "text/event-stream" },
          credentials: "same-origin"
        });
      } catch (e) {
        failedReply(aiLi, { retryUrl: url });
        showError(R.NETWORK_MESSAGE, { kind: "reply", url: url, li: aiLi });
        return;
      }
      if (!response.ok) {
        failedReply(aiLi, { retryUrl: url });
        showError(await R.errorFromResponse(response), { kind: "reply", url: url, li: aiLi });
        return;
      }
      if ((response.headers.get("content-type") || "").indexOf("text/event-stream") === -1) {
        var turn = await response.json();
        bubble.textContent = turn.text || "";
        setStatus(aiLi, turn.status && turn.status !== "complete" ? "This reply was interrupted." : null,
          turn.status && turn.status !== "complete" ? url : null);
        updateTalkShare();
        return;
      }
      var outcome = await streamInto(response, aiLi, { li: null, saved: true });
      if (!outcome.ok) {
        var again = outcome.retryUrl || url;
        failedReply(aiLi, { retryUrl: again, turnIndex: outcome.turnIndex });
        showError(outcome.message, { kind: "reply", url: again, li: aiLi });
      }
    } finally {
      setBusy(false);
    }
  }

  async function send() {
    if (busy) return;
    var text = textarea.value;
    if (!text.trim()) {
      showError("Write something first: your message is empty.", null);
      textarea.focus();
      return;
    }
    if (text.length > data.max_chars) {
      showError(
        "Your message is " + text.length.toLocaleString("en") + " characters; the limit is " +
          data.max_chars.toLocaleString("en") + ". Shorten it, then send again.",
        null
      );
      textarea.focus();
      return;
    }
    hideError();
    textarea.value = "";
    updateCount();
    setBusy(true);
    try {
      await postTurn(text);
    } finally {
      setBusy(false);
    }
  }

  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      send();
    });
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        send();
      }
    });
    textarea.addEventListener("input", function () {
      updateCount();
    });
    retryButton.addEventListener("click", function () {
      var retry = pendingRetry;
      if (!retry || busy) return;
      if (retry.kind === "send") send();
      else if (retry.kind === "reply") retryReply(retry.url, retry.li);
      else window.location.reload();
    });
    updateCount();
  }

  if (endButton) {
    endButton.addEventListener("click", async function () {
      if (busy) return;
      hideError();
      endButton.disabled = true;
      endButton.textContent = "Ending…";
      try {
        var response = await fetch(data.finish_url, {
          method: "POST",
          headers: { Accept: "application/json" },
          credentials: "same-origin"
        });
        if (!response.ok) {
          showError(await R.errorFromResponse(response), null);
          return;
        }
        window.location.assign(data.report_url);
        return;
      } catch (e) {
        showError(R.NETWORK_MESSAGE, null);
      } finally {
        endButton.disabled = false;
        endButton.textContent = "End interview";
      }
    });
  }

  updateTalkShare();
  // Focus the box for keyboards and mice; on phones it would pop the keyboard over the transcript.
  if (textarea && window.matchMedia("(pointer: fine)").matches) textarea.focus();
})();
