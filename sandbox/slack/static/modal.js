// Confirm dialogs, input blocks and the modal overlay (views.open / update / push).
"use strict";

const Confirm = {
  ask(confirm, ctx) {
    const backdrop = document.getElementById("confirm-backdrop");
    const ok = document.getElementById("confirm-ok");
    const cancel = document.getElementById("confirm-cancel");
    document.getElementById("confirm-title").innerHTML = Mrkdwn.plain(confirm.title ? confirm.title.text : "Are you sure?");
    document.getElementById("confirm-text").innerHTML = Mrkdwn.textObject(confirm.text, ctx);
    ok.textContent = confirm.confirm ? confirm.confirm.text : "Yes";
    cancel.textContent = confirm.deny ? confirm.deny.text : "Cancel";
    ok.className = `bk-button ${confirm.style === "danger" ? "danger" : "primary"}`;
    backdrop.hidden = false;
    return new Promise((resolve) => {
      const finish = (answer) => {
        backdrop.hidden = true;
        ok.onclick = null;
        cancel.onclick = null;
        resolve(answer);
      };
      ok.onclick = () => finish(true);
      cancel.onclick = () => finish(false);
    });
  },
};

const Choices = {
  render(element, blockId, ctx) {
    const node = Blocks.tag(Blocks.el("div", `bk-choices ${element.type}`), element, blockId);
    const kind = element.type === "checkboxes" ? "checkbox" : "radio";
    const name = `${blockId}-${element.action_id}-${Math.random().toString(36).slice(2)}`;
    const initial = (element.initial_options || (element.initial_option ? [element.initial_option] : []))
      .map((o) => o.value);
    for (const option of element.options || []) {
      const label = Blocks.el("label", "bk-choice");
      const input = document.createElement("input");
      input.type = kind;
      input.name = name;
      input.value = option.value;
      input.checked = initial.includes(option.value);
      label.appendChild(input);
      label.appendChild(Blocks.el("span", "", Mrkdwn.textObject(option.text, ctx)));
      node.appendChild(label);
      input.addEventListener("change", () => {
        if (ctx.inModal || !ctx.onAction) return;
        const chosen = [...node.querySelectorAll("input:checked")].map((i) => i.value);
        ctx.onAction(element, blockId, kind === "checkbox" ? chosen : chosen[0] || null);
      });
    }
    return node;
  },
};

const Inputs = {
  control(element, blockId, ctx) {
    const text = { plain_text_input: "text", email_text_input: "email", url_text_input: "url", number_input: "number" };
    if (element.type in text || element.type === "rich_text_input") {
      const multiline = element.multiline || element.type === "rich_text_input";
      const node = Blocks.tag(Blocks.el(multiline ? "textarea" : "input", "bk-input"), element, blockId);
      if (!multiline) node.type = text[element.type] || "text";
      if (element.placeholder) node.placeholder = element.placeholder.text;
      node.value = element.initial_value || "";
      return node;
    }
    if (element.type.startsWith("multi_") && element.type.endsWith("_select")) {
      const node = Blocks.tag(Blocks.el("select", "bk-select"), element, blockId);
      node.multiple = true;
      for (const option of Blocks.optionsOf(element, ctx)) node.appendChild(new Option(option.label, option.value));
      return node;
    }
    return Blocks.interactive(element, blockId, ctx);
  },

  render(block, ctx) {
    const element = block.element || {};
    const node = Blocks.el("div", "bk-input-block");
    node.dataset.inputBlock = "true";
    node.dataset.blockId = block.block_id;
    node.dataset.actionId = element.action_id || "";
    node.dataset.elementType = element.type || "";
    node.dataset.optional = block.optional ? "true" : "false";
    const label = Mrkdwn.plain(block.label ? block.label.text : "") + (block.optional ? ' <span class="optional">(optional)</span>' : "");
    node.appendChild(Blocks.el("label", "bk-label", label));
    node.appendChild(Inputs.control(element, block.block_id, ctx));
    if (block.hint) node.appendChild(Blocks.el("div", "bk-hint", Mrkdwn.plain(block.hint.text)));
    const error = (ctx.errors || {})[block.block_id];
    node.appendChild(Blocks.el("div", "bk-input-error", error ? Mrkdwn.plain(error) : ""));
    return node;
  },

  valueOf(node) {
    const type = node.dataset.elementType;
    if (type === "checkboxes") return [...node.querySelectorAll("input:checked")].map((i) => i.value);
    if (type === "radio_buttons") {
      const chosen = node.querySelector("input:checked");
      return chosen ? chosen.value : null;
    }
    const control = node.querySelector("input, textarea, select");
    if (!control) return null;
    if (control.multiple) return [...control.selectedOptions].map((o) => o.value);
    return control.value === "" && control.tagName === "SELECT" ? null : control.value;
  },

  collect(root) {
    const values = {};
    const missing = [];
    for (const node of root.querySelectorAll("[data-input-block]")) {
      const value = Inputs.valueOf(node);
      const empty = value === null || value === "" || (Array.isArray(value) && value.length === 0);
      if (empty && node.dataset.optional !== "true") missing.push(node);
      values[node.dataset.blockId] = { [node.dataset.actionId]: value };
    }
    return { values, missing };
  },
};

const Modal = {
  key: null,

  show(view, ctx) {
    const key = `${view.id}:${view.hash}`;
    const errors = view.errors || {};
    const banner = document.getElementById("modal-error");
    banner.hidden = !errors[""];
    banner.textContent = errors[""] || "";
    if (key === Modal.key) {
      // Same view: keep what the person typed, refresh only the error messages.
      for (const node of document.querySelectorAll("#modal-body [data-input-block]")) {
        node.querySelector(".bk-input-error").textContent = errors[node.dataset.blockId] || "";
      }
      return;
    }
    Modal.key = key;
    document.getElementById("modal").dataset.viewId = view.id;
    document.getElementById("modal-title").innerHTML = Mrkdwn.plain(view.title ? view.title.text : "");
    const body = document.getElementById("modal-body");
    body.replaceChildren(Blocks.render(view.blocks, { ...ctx, inModal: true, errors }));
    const submit = document.getElementById("modal-submit");
    submit.hidden = !view.submit;
    submit.textContent = view.submit ? view.submit.text : "";
    document.getElementById("modal-close").textContent = view.close ? view.close.text : "Cancel";
    document.getElementById("modal-backdrop").hidden = false;
  },

  hide() {
    Modal.key = null;
    document.getElementById("modal-backdrop").hidden = true;
    document.getElementById("modal-body").replaceChildren();
  },

  values() {
    const body = document.getElementById("modal-body");
    const { values, missing } = Inputs.collect(body);
    for (const node of body.querySelectorAll("[data-input-block] .bk-input-error")) node.textContent = "";
    for (const node of missing) {
      node.querySelector(".bk-input-error").textContent = "Please complete this required field.";
    }
    return missing.length ? null : values;
  },
};
