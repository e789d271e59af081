// FsDirectory admin console: progressive enhancement only. Every page works without this file;
// it adds "select all" and a live selection count to the list, and live search to the account field.
"use strict";

(() => {
  // The list: select every rule of the page, count the selection, and keep the bulk buttons off while nothing is selected.
  for (const form of document.querySelectorAll("form.bulk")) {
    const boxes = [...form.querySelectorAll('input[type="checkbox"][name="ids"]')];
    const all = form.querySelector("[data-select-all]");
    const count = form.querySelector("[data-selected-count]");
    const buttons = [...form.querySelectorAll("[data-bulk]")];
    const update = () => {
      const selected = boxes.filter((b) => b.checked).length;
      if (count) count.textContent = String(selected);
      for (const button of buttons) button.disabled = selected === 0;
      if (all) {
        all.checked = selected > 0 && selected === boxes.length;
        all.indeterminate = selected > 0 && selected < boxes.length;
      }
    };
    if (all && boxes.length > 0) {
      all.hidden = false;
      all.addEventListener("change", () => {
        for (const box of boxes) box.checked = all.checked;
        update();
      });
    }
    for (const box of boxes) box.addEventListener("change", update);
    update();
  }

  // On a phone the filters start folded (unless some are set), so the rules come first.
  if (window.matchMedia("(max-width: 700px)").matches) {
    for (const box of document.querySelectorAll("details[data-collapse-narrow]")) box.open = false;
  }

  // The account field: the list of accounts follows the search box (the "Find" button is for pages without script).
  for (const picker of document.querySelectorAll("[data-account-picker]")) {
    const search = picker.querySelector('input[type="search"]');
    const select = picker.querySelector("select");
    const status = picker.querySelector("[data-status]");
    const url = picker.getAttribute("data-search-url");
    if (!search || !select || !url) continue;
    picker.querySelector("[data-find]")?.remove();

    let timer = 0;
    let sequence = 0;
    const run = async () => {
      const mine = ++sequence;
      const query = search.value.trim();
      let response;
      try {
        response = await fetch(url + "&q=" + encodeURIComponent(query), {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        });
      } catch {
        if (status) status.textContent = "The account search failed: check the connection.";
        return;
      }
      if (mine !== sequence) return;
      if (!response.ok) {
        if (status) status.textContent = "The account search failed (" + response.status + ").";
        return;
      }
      const found = await response.json();
      if (mine !== sequence) return;
      const kept = [...select.options].filter((o) => o.value === "" || o.selected);
      select.replaceChildren(...kept);
      for (const account of found.items) {
        if (!kept.some((o) => o.value === String(account.id))) select.add(new Option(account.label, String(account.id)));
      }
      if (status) {
        status.textContent = found.items.length + " of " + found.total + " account(s) match" + (query ? " “" + query + "”" : "") + ".";
      }
    };
    search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(run, 200);
    });
    // Enter searches now and moves to the list, instead of submitting the whole form.
    search.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      clearTimeout(timer);
      run().then(() => select.focus());
    });
  }
})();
