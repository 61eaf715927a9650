// Block Kit rendering: header, section (text, fields, accessory), context, divider, image,
// actions (buttons with styles and confirm dialogs, selects), input (in modals), rich_text.
"use strict";

const Blocks = (() => {
  function el(tag, className, html) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (html !== undefined) node.innerHTML = html;
    return node;
  }

  function tag(node, element, blockId) {
    if (element.action_id) node.dataset.actionId = element.action_id;
    if (blockId) node.dataset.blockId = blockId;
    return node;
  }

  function optionLabel(option) {
    return option && option.text ? option.text.text : "";
  }

  function button(element, blockId, ctx) {
    const node = tag(el("button", "bk-button"), element, blockId);
    node.type = "button";
    if (element.style) node.classList.add(element.style);
    if (element.value !== undefined) node.dataset.value = element.value;
    node.innerHTML = Mrkdwn.plain(element.text ? element.text.text : "", element.text && element.text.emoji);
    node.addEventListener("click", async () => {
      if (element.confirm && !(await Confirm.ask(element.confirm, ctx))) return;
      if (element.url) window.open(element.url, "_blank", "noopener");
      ctx.onAction(element, blockId, null);
    });
    return node;
  }

  function choiceSelect(element, blockId, ctx, options) {
    const node = tag(el("select", "bk-select"), element, blockId);
    const placeholder = element.placeholder ? element.placeholder.text : "Select…";
    node.appendChild(new Option(element.type === "overflow" ? "⋯" : placeholder, ""));
    for (const option of options) node.appendChild(new Option(option.label, option.value));
    const initial = element.initial_option || element.initial_user || element.initial_channel;
    if (initial) node.value = typeof initial === "string" ? initial : initial.value;
    node.addEventListener("change", async () => {
      if (!node.value || !ctx.onAction || ctx.inModal) return;
      if (element.confirm && !(await Confirm.ask(element.confirm, ctx))) return;
      ctx.onAction(element, blockId, node.value);
    });
    return node;
  }

  function optionsOf(element, ctx) {
    if (element.type.includes("users_select")) {
      return Object.values(ctx.users || {}).map((u) => ({ label: u.name, value: u.id }));
    }
    if (element.type.includes("conversations_select") || element.type.includes("channels_select")) {
      return (ctx.channels || []).filter((c) => !c.is_im).map((c) => ({ label: `#${c.name}`, value: c.id }));
    }
    const groups = element.option_groups ? element.option_groups.flatMap((g) => g.options) : [];
    return (element.options || groups).map((o) => ({ label: optionLabel(o), value: o.value }));
  }

  function interactive(element, blockId, ctx) {
    switch (element.type) {
      case "button":
      case "workflow_button":
        return button(element, blockId, ctx);
      case "image":
        return imageElement(element);
      case "datepicker":
      case "timepicker": {
        const node = tag(el("input", "bk-input"), element, blockId);
        node.type = element.type === "datepicker" ? "date" : "time";
        node.value = element.initial_date || element.initial_time || "";
        node.addEventListener("change", () => ctx.inModal || ctx.onAction(element, blockId, node.value));
        return node;
      }
      case "checkboxes":
      case "radio_buttons":
        return Choices.render(element, blockId, ctx);
      default:
        if (element.type.endsWith("select") || element.type === "overflow") {
          return choiceSelect(element, blockId, ctx, optionsOf(element, ctx));
        }
        return el("span", "bk-unsupported", Mrkdwn.escapeHtml(`[${element.type}]`));
    }
  }

  function imageElement(element) {
    const img = el("img", "bk-image-element");
    img.src = element.image_url || "";
    img.alt = element.alt_text || "";
    return img;
  }

  function section(block, ctx) {
    const node = el("div", "bk-section");
    const main = el("div", "bk-section-main");
    if (block.text) main.appendChild(el("div", "bk-text", Mrkdwn.textObject(block.text, ctx)));
    if (block.fields) {
      const grid = el("div", "bk-fields");
      for (const field of block.fields) grid.appendChild(el("div", "bk-field", Mrkdwn.textObject(field, ctx)));
      main.appendChild(grid);
    }
    node.appendChild(main);
    if (block.accessory) {
      const accessory = el("div", "bk-accessory");
      accessory.appendChild(interactive(block.accessory, block.block_id, ctx));
      node.appendChild(accessory);
    }
    return node;
  }

  function context(block, ctx) {
    const node = el("div", "bk-context");
    for (const element of block.elements || []) {
      node.appendChild(element.type === "image"
        ? imageElement(element)
        : el("span", "bk-context-text", Mrkdwn.textObject(element, ctx)));
    }
    return node;
  }

  function actions(block, ctx) {
    const node = el("div", "bk-actions");
    for (const element of block.elements || []) node.appendChild(interactive(element, block.block_id, ctx));
    return node;
  }

  function image(block) {
    const node = el("figure", "bk-image");
    if (block.title) node.appendChild(el("figcaption", "", Mrkdwn.plain(block.title.text)));
    node.appendChild(imageElement(block));
    return node;
  }

  function richText(block, ctx) {
    const node = el("div", "bk-rich-text");
    for (const part of block.elements || []) {
      const inner = (part.elements || []).map((e) => RichText.inline(e, ctx)).join("");
      const wrapper = { rich_text_preformatted: "pre", rich_text_quote: "blockquote" }[part.type] || "div";
      if (part.type === "rich_text_list") {
        const list = el(part.style === "ordered" ? "ol" : "ul");
        for (const item of part.elements || []) {
          list.appendChild(el("li", "", (item.elements || []).map((e) => RichText.inline(e, ctx)).join("")));
        }
        node.appendChild(list);
      } else {
        node.appendChild(el(wrapper, "", inner));
      }
    }
    return node;
  }

  const RENDERERS = {
    header: (b) => el("div", "bk-header", Mrkdwn.plain(b.text ? b.text.text : "", b.text && b.text.emoji)),
    section,
    context,
    actions,
    image,
    divider: () => el("hr", "bk-divider"),
    input: (b, ctx) => Inputs.render(b, ctx),
    rich_text: richText,
    markdown: (b, ctx) => el("div", "bk-text", Mrkdwn.render(b.text, ctx)),
  };

  function render(blocks, ctx) {
    const container = el("div", "blocks");
    for (const block of blocks || []) {
      const renderer = RENDERERS[block.type];
      const node = renderer ? renderer(block, ctx) : el("div", "bk-unsupported", `[${block.type}]`);
      node.classList.add("block");
      node.dataset.blockType = block.type;
      if (block.block_id) node.dataset.blockId = block.block_id;
      container.appendChild(node);
    }
    return container;
  }

  return { render, interactive, el, tag, optionsOf };
})();

const RichText = {
  inline(element, ctx) {
    const wrap = (html) => {
      const s = element.style || {};
      if (s.code) html = `<code>${html}</code>`;
      if (s.bold) html = `<b>${html}</b>`;
      if (s.italic) html = `<i>${html}</i>`;
      if (s.strike) html = `<s>${html}</s>`;
      return html;
    };
    switch (element.type) {
      case "text": return wrap(Mrkdwn.plain(element.text));
      case "user": return Mrkdwn.render(`<@${element.user_id}>`, ctx);
      case "channel": return Mrkdwn.render(`<#${element.channel_id}>`, ctx);
      case "usergroup": return `<span class="mention">@${Mrkdwn.escapeHtml(element.usergroup_id)}</span>`;
      case "broadcast": return `<span class="mention broadcast">@${Mrkdwn.escapeHtml(element.range)}</span>`;
      case "link": return Mrkdwn.render(`<${element.url}${element.text ? `|${element.text}` : ""}>`, ctx);
      case "emoji": return `:${Mrkdwn.escapeHtml(element.name)}:`;
      default: return "";
    }
  },
};
