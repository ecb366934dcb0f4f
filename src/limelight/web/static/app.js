// Limelight dashboard: a little plain JavaScript, no build step and no dependencies.
// - the user picker suggests users as you type (GET /ui/api/users);
// - the context switcher reloads the home preview with its choices as query parameters;
// - a tile click on the home preview is sent as a real `click` event (POST /ui/api/events),
//   carrying what served it: item_id, decision_id, page_id, position and artwork_id.
"use strict";

(function () {
  const UI_HEADER = { "X-Limelight-UI": "1" };

  function toast(message, isError) {
    const box = document.getElementById("toast");
    if (!box) return;
    box.textContent = message;
    box.classList.toggle("is-error", Boolean(isError));
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { box.hidden = true; }, 4000);
  }

  function randomId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes); // works outside secure contexts, unlike randomUUID
    return Array.from(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }

  function setUpPicker(input) {
    const list = document.getElementById(input.getAttribute("list"));
    let timer = null;
    let last = "";
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(async function () {
        const query = input.value.trim();
        if (query === last) return;
        last = query;
        try {
          const answer = await fetch("/ui/api/users?q=" + encodeURIComponent(query), {
            headers: { Accept: "application/json" },
            credentials: "same-origin",
          });
          if (!answer.ok) return;
          const body = await answer.json();
          list.replaceChildren.apply(list, body.users.map(function (user) {
            const option = document.createElement("option");
            option.value = user.user_id;
            return option;
          }));
        } catch (error) {
          // suggestions are a convenience; the form still works without them
        }
      }, 150);
    });
  }

  function setUpSwitcher(form) {
    form.addEventListener("change", function () {
      const params = new URLSearchParams(new FormData(form));
      for (const [name, value] of Array.from(params.entries())) {
        if (!value) params.delete(name);
      }
      window.location.search = params.toString();
    });
  }

  async function sendClick(button, home) {
    const userId = home.dataset.userId;
    const event = {
      event_id: "ui-" + randomId(),
      type: "click",
      timestamp: Date.now() / 1000,
      context: { device: home.dataset.device, app: "limelight-preview" },
      properties: {
        item_id: button.dataset.itemId,
        decision_id: button.dataset.decisionId,
        page_id: home.dataset.pageId,
        position: Number(button.dataset.position),
        artwork_id: button.dataset.artworkId || undefined,
      },
    };
    if (userId.startsWith("anon:")) event.anonymous_id = userId.slice(5);
    else event.user_id = userId;
    button.dataset.clicked = "sending";
    try {
      const answer = await fetch("/ui/api/events", {
        method: "POST",
        credentials: "same-origin",
        headers: Object.assign({ "Content-Type": "application/json", Accept: "application/json" }, UI_HEADER),
        body: JSON.stringify({ batch: [event] }),
      });
      const body = await answer.json().catch(function () { return {}; });
      if (!answer.ok) throw new Error(body.detail || answer.statusText);
      button.dataset.clicked = "sent";
      toast("Click sent: " + button.getAttribute("aria-label") + " (decision " + event.properties.decision_id + ")");
    } catch (error) {
      button.dataset.clicked = "failed";
      toast("Click not recorded: " + error.message, true);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-user-picker]").forEach(setUpPicker);
    document.querySelectorAll("[data-context-switcher]").forEach(setUpSwitcher);
    const home = document.querySelector("[data-home]");
    if (home) {
      home.addEventListener("click", function (event) {
        const button = event.target.closest("[data-click]");
        if (button) sendClick(button, home);
      });
    }
  });
})();
