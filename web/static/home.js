/* Home page: switch the persona list with the side, and start an interview through the API. */
(function () {
  "use strict";
  var form = document.getElementById("start-form");
  if (!form) return;
  var errorBox = document.getElementById("start-error");
  var button = document.getElementById("start-button");

  function currentSide() {
    var checked = form.querySelector('input[name="human_side"]:checked');
    return checked ? checked.value : "candidate";
  }

  function showSide(side) {
    form.querySelectorAll(".persona-group").forEach(function (group) {
      var active = group.dataset.side === side;
      group.toggleAttribute("data-inactive", !active);
      var radios = group.querySelectorAll('input[name="persona_id"]');
      radios.forEach(function (r) { r.disabled = !active; });
      if (active && radios.length && !group.querySelector('input[name="persona_id"]:checked')) {
        radios[0].checked = true;
      }
    });
  }

  function showError(message) {
    errorBox.querySelector("[data-message]").textContent = message;
    errorBox.hidden = false;
  }

  form.querySelectorAll('input[name="human_side"]').forEach(function (input) {
    input.addEventListener("change", function () { showSide(currentSide()); });
  });
  showSide(currentSide());

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    errorBox.hidden = true;
    var persona = form.querySelector('input[name="persona_id"]:checked:not([disabled])');
    if (!persona) {
      showError("Choose who you'd like to practise with.");
      return;
    }
    var body = { persona_id: persona.value };
    var jd = form.elements.job_description.value.trim();
    var resume = form.elements.resume.value.trim();
    if (jd) body.job_description = jd;
    if (resume) body.resume = resume;
    if (form.elements.backend) body.backend = form.elements.backend.value;

    button.disabled = true;
    button.textContent = "Starting…";
    try {
      var response = await fetch(form.dataset.api, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        credentials: "same-origin",
        body: JSON.stringify(body)
      });
      if (!response.ok) {
        showError(await window.Rapport.errorFromResponse(response));
        return;
      }
      var interview = await response.json();
      window.location.assign("/interviews/" + encodeURIComponent(interview.id));
      return;
    } catch (e) {
      showError(window.Rapport.NETWORK_MESSAGE);
    } finally {
      button.disabled = false;
      button.textContent = "Start interview";
    }
  });
})();
