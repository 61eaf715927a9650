// The workspace page: sidebar, message list, thread pane, composer, user switcher, modals.
// Polls /ui/state; every action posts to /ui/... which reaches the bot as Slack would.
"use strict";

const App = {
  me: new URLSearchParams(location.search).get("user") || localStorage.getItem("slack-user") || "U0ALICE",
  channelId: null,
  threadTs: null,
  data: null,
  version: null,
};

async function post(path, body) {
  const response = await fetch(`/ui/${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user: App.me, ...body }),
  });
  const answer = await response.json();
  const status = document.getElementById("delivery-status");
  status.textContent = answer.ok ? "" : `Error: ${answer.error}`;
  if (answer.delivery && !answer.delivery.ok) {
    status.textContent = `Delivery to the app failed: ${answer.delivery.error || answer.delivery.status}`;
  }
  poll();
  return answer;
}

function renderCtx(extra) {
  return { users: App.data.users, channels: App.data.channels, usergroups: App.data.usergroups, ...extra };
}

function displayName(userId) {
  const user = App.data.users[userId];
  return user ? user.name : userId;
}

function formatTime(ts) {
  const date = new Date(Number(ts) * 1000);
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function fileNode(file) {
  if ((file.mimetype || "").startsWith("image/")) {
    const img = Blocks.el("img", "file-image");
    img.src = `/ui/files/${file.id}`;
    img.alt = file.title || file.name;
    return img;
  }
  const link = Blocks.el("a", "file-link", `📄 ${Mrkdwn.escapeHtml(file.title || file.name)}`);
  link.href = `/ui/files/${file.id}`;
  link.target = "_blank";
  return link;
}

function attachmentNode(attachment, ctx) {
  const node = Blocks.el("div", "attachment");
  node.style.borderLeftColor = attachment.color ? (attachment.color.startsWith("#") ? attachment.color : `#${attachment.color}`) : "#ddd";
  if (attachment.pretext) node.appendChild(Blocks.el("div", "bk-text", Mrkdwn.render(attachment.pretext, ctx)));
  if (attachment.title) node.appendChild(Blocks.el("div", "attachment-title", Mrkdwn.plain(attachment.title)));
  if (attachment.text) node.appendChild(Blocks.el("div", "bk-text", Mrkdwn.render(attachment.text, ctx)));
  for (const field of attachment.fields || []) {
    node.appendChild(Blocks.el("div", "bk-field", `<b>${Mrkdwn.plain(field.title || "")}</b><br>${Mrkdwn.render(field.value || "", ctx)}`));
  }
  if (attachment.blocks) node.appendChild(Blocks.render(attachment.blocks, ctx));
  return node;
}

function messageNode(message, options) {
  const ephemeral = message.subtype === "ephemeral";
  const node = Blocks.el("div", "message");
  node.dataset.ts = message.ts;
  node.dataset.user = message.user || "";
  if (ephemeral) node.classList.add("ephemeral");
  if (message.bot_id) node.classList.add("from-bot");
  const system = ["channel_join", "group_join", "tombstone"].includes(message.subtype);
  if (system) node.classList.add("system");
  const author = message.user === "USLACKBOT" ? "Slackbot" : displayName(message.user);
  const avatar = Blocks.el("div", "avatar", Mrkdwn.escapeHtml(author.slice(0, 1).toUpperCase()));
  const content = Blocks.el("div", "message-content");
  const head = Blocks.el("div", "message-head");
  head.appendChild(Blocks.el("span", "author", Mrkdwn.escapeHtml(author)));
  if (message.bot_id) head.appendChild(Blocks.el("span", "app-badge", "APP"));
  head.appendChild(Blocks.el("span", "time", formatTime(message.ts)));
  content.appendChild(head);
  const ctx = renderCtx({
    onAction: (element, blockId, value) => post("action", {
      channel: options.channelId, message_ts: message.ts, action_id: element.action_id, block_id: blockId, value,
    }),
  });
  const richOnly = (message.blocks || []).every((b) => b.type === "rich_text");
  if (message.blocks && message.blocks.length && !(richOnly && message.text)) {
    content.appendChild(Blocks.render(message.blocks, ctx));
  } else {
    content.appendChild(Blocks.el("div", "message-text", Mrkdwn.render(message.text || "", ctx)));
  }
  for (const attachment of message.attachments || []) content.appendChild(attachmentNode(attachment, ctx));
  for (const file of message.files || []) content.appendChild(fileNode(file));
  if (message.edited) content.appendChild(Blocks.el("div", "edited", "(edited)"));
  if (ephemeral) content.appendChild(Blocks.el("div", "ephemeral-note", "Only visible to you"));
  if (message.reactions && message.reactions.length) {
    const reactions = Blocks.el("div", "reactions");
    for (const r of message.reactions) {
      const chip = Blocks.el("span", "reaction", `${Emoji.replace(`:${Mrkdwn.escapeHtml(r.name)}:`)} ${r.count}`);
      chip.dataset.reaction = r.name;
      reactions.appendChild(chip);
    }
    content.appendChild(reactions);
  }
  if (options.showThreadLink && message.reply_count) {
    const link = Blocks.el("button", "thread-link", `${message.reply_count} ${message.reply_count === 1 ? "reply" : "replies"}`);
    link.type = "button";
    link.addEventListener("click", () => openThread(message.ts));
    content.appendChild(link);
  } else if (options.showThreadLink && !ephemeral && !system) {
    const reply = Blocks.el("button", "reply-link", "Reply in thread");
    reply.type = "button";
    reply.addEventListener("click", () => openThread(message.ts));
    content.appendChild(reply);
  }
  node.appendChild(avatar);
  node.appendChild(content);
  return node;
}

function renderList(container, messages, options) {
  const nearBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 80;
  container.replaceChildren(...messages.map((m) => messageNode(m, options)));
  if (nearBottom || options.forceScroll) container.scrollTop = container.scrollHeight;
}

function channelMessages(channelId) {
  const all = App.data.messages[channelId] || [];
  const top = all.filter((m) => !m.thread_ts || m.thread_ts === m.ts || m.subtype === "thread_broadcast");
  const mine = App.data.ephemerals.filter((e) => e.channel === channelId && !e.thread_ts);
  return [...top, ...mine].sort((a, b) => Number(a.ts) - Number(b.ts));
}

function threadMessages(channelId, threadTs) {
  const all = App.data.messages[channelId] || [];
  const thread = all.filter((m) => m.ts === threadTs || m.thread_ts === threadTs);
  const mine = App.data.ephemerals.filter((e) => e.channel === channelId && e.thread_ts === threadTs);
  return [...thread, ...mine].sort((a, b) => Number(a.ts) - Number(b.ts));
}

function renderSidebar() {
  const switcher = document.getElementById("user-switcher");
  const people = Object.values(App.data.users).filter((u) => !u.is_bot);
  if (switcher.options.length !== people.length) {
    switcher.replaceChildren(...people.map((u) => new Option(`${u.name} (${u.real_name})`, u.id)));
  }
  switcher.value = App.me;
  const item = (channel, label) => {
    const li = Blocks.el("li", "channel", Mrkdwn.escapeHtml(label));
    li.dataset.channelId = channel.id;
    li.dataset.channelName = channel.name;
    if (channel.id === App.channelId) li.classList.add("active");
    if (channel.is_archived) li.classList.add("archived");
    li.addEventListener("click", () => selectChannel(channel.id));
    return li;
  };
  const channels = App.data.channels.filter((c) => !c.is_im);
  document.getElementById("channels").replaceChildren(
    ...channels.map((c) => item(c, `${c.is_private ? "🔒" : "#"} ${c.name}`)));
  document.getElementById("dms").replaceChildren(
    ...App.data.channels.filter((c) => c.is_im).map((c) => item(c, displayName(App.data.bot_user_id))));
}

function renderWorld() {
  const dev = App.data.dev;
  const section = document.getElementById("world-controls");
  section.hidden = !dev;
  if (!dev) return;
  const picker = document.getElementById("scenario-picker");
  if (picker.options.length !== dev.scenarios.length + 1) {
    picker.replaceChildren(new Option("Start an incident…", ""), ...dev.scenarios.map((name) => new Option(name, name)));
  }
  document.getElementById("world-status").textContent = `World: ${dev.status}`;
}

function render() {
  if (!App.data) return;
  renderWorld();
  if (!App.channelId || !App.data.channels.some((c) => c.id === App.channelId)) {
    const fallback = App.data.channels.find((c) => c.name === "incidents") || App.data.channels[0];
    App.channelId = fallback ? fallback.id : null;
  }
  renderSidebar();
  const channel = App.data.channels.find((c) => c.id === App.channelId);
  if (!channel) return;
  document.getElementById("channel-name").textContent = channel.is_im ? displayName(App.data.bot_user_id) : `#${channel.name}`;
  document.getElementById("channel-purpose").textContent = channel.purpose || "";
  document.getElementById("composer").placeholder = `Message ${channel.is_im ? "opsbot" : `#${channel.name}`} (try /ask-ai help or @opsbot)`;
  renderList(document.getElementById("messages"), channelMessages(channel.id), { channelId: channel.id, showThreadLink: true });
  const pane = document.getElementById("thread-pane");
  pane.hidden = !App.threadTs;
  if (App.threadTs) {
    renderList(document.getElementById("thread-messages"), threadMessages(channel.id, App.threadTs), { channelId: channel.id, showThreadLink: false });
  }
  if (App.data.view) {
    Modal.show(App.data.view, renderCtx({
      onAction: (element, blockId, value) => post("action", {
        view_id: App.data.view.id, action_id: element.action_id, block_id: blockId, value,
      }),
    }));
  } else {
    Modal.hide();
  }
}

function selectChannel(channelId) {
  App.channelId = channelId;
  App.threadTs = null;
  render();
}

function openThread(ts) {
  App.threadTs = ts;
  render();
  document.getElementById("thread-composer").focus();
}

async function poll() {
  const since = App.version === null ? "" : `&since=${App.version}`;
  try {
    const response = await fetch(`/ui/state?user=${encodeURIComponent(App.me)}${since}`);
    const answer = await response.json();
    if (!answer.unchanged) {
      App.data = answer;
      App.version = answer.version;
      render();
    }
  } catch (error) {
    document.getElementById("delivery-status").textContent = `Emulator unreachable: ${error}`;
  }
}

function encodeMentions(text) {
  // The Slack client turns @name and #channel into <@U…> and <#C…|name> before sending.
  return text
    .replace(/(^|\s)@(here|channel|everyone)\b/g, "$1<!$2>")
    .replace(/(^|\s)@([\w.-]+)/g, (all, lead, name) => {
      const user = Object.values(App.data.users).find((u) => u.name === name);
      return user ? `${lead}<@${user.id}>` : all;
    })
    .replace(/(^|\s)#([\w-]+)/g, (all, lead, name) => {
      const channel = App.data.channels.find((c) => c.name === name);
      return channel ? `${lead}<#${channel.id}|${name}>` : all;
    });
}

function wireComposer(formId, inputId, threaded) {
  const form = document.getElementById(formId);
  const input = document.getElementById(inputId);
  const send = async () => {
    const text = input.value.trim();
    if (!text || !App.channelId) return;
    input.value = "";
    const body = { channel: App.channelId, text: text.startsWith("/") ? text : encodeMentions(text) };
    if (threaded) body.thread_ts = App.threadTs;
    await post("send", body);
  };
  form.addEventListener("submit", (event) => { event.preventDefault(); send(); });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); send(); }
  });
}

function start() {
  wireComposer("composer-form", "composer", false);
  wireComposer("thread-composer-form", "thread-composer", true);
  document.getElementById("close-thread").addEventListener("click", () => { App.threadTs = null; render(); });
  document.getElementById("user-switcher").addEventListener("change", (event) => {
    App.me = event.target.value;
    localStorage.setItem("slack-user", App.me);
    App.version = null;
    Modal.hide();
    poll();
  });
  const closeModal = () => App.data.view && post("close", { view_id: App.data.view.id });
  document.getElementById("modal-x").addEventListener("click", closeModal);
  document.getElementById("modal-close").addEventListener("click", closeModal);
  document.getElementById("modal-submit").addEventListener("click", () => {
    const values = Modal.values();
    if (values && App.data.view) post("submit", { view_id: App.data.view.id, values });
  });
  document.getElementById("scenario-picker").addEventListener("change", (event) => {
    const scenario = event.target.value;
    event.target.value = "";
    if (scenario) post("start-incident", { scenario });
  });
  document.getElementById("reset-world").addEventListener("click", () => post("reset-world", {}));
  const hash = new URLSearchParams(location.hash.slice(1));
  App.channelId = hash.get("channel") || null;
  App.threadTs = hash.get("thread") || null;
  poll();
  setInterval(poll, 500);
}

document.addEventListener("DOMContentLoaded", start);
