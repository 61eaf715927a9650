// Slack mrkdwn to safe HTML: *bold*, _italic_, ~strike~, `code`, ```blocks```, > quotes,
// <url|text> links, <@U…> / <#C…|name> / <!here> / <!subteam^S…|@handle> mentions, newlines.
"use strict";

const Mrkdwn = (() => {
  function escapeHtml(text) {
    return String(text)
      .replace(/&(?!(amp|lt|gt|quot|#39);)/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;");
  }

  function plain(text, emoji) {
    // plain_text objects: Slack entities decoded once, then escaped for HTML, newlines kept;
    // shortcodes shown as emoji unless the object says `emoji: false`.
    const html = escapeHtml(String(text)).replace(/\n/g, "<br>");
    return emoji === false ? html : Emoji.replace(html);
  }

  function userName(id, ctx) {
    const user = ctx && ctx.users && ctx.users[id];
    return user ? user.name : id;
  }

  function channelName(id, label, ctx) {
    if (label) return label;
    const channel = ctx && ctx.channels && ctx.channels.find((c) => c.id === id);
    return channel ? channel.name : id;
  }

  function safeUrl(url) {
    return /^(https?:|mailto:|\/)/i.test(url) ? url : "#";
  }

  function token(inner, ctx) {
    const bar = inner.indexOf("|");
    const target = bar >= 0 ? inner.slice(0, bar) : inner;
    const label = bar >= 0 ? inner.slice(bar + 1) : "";
    if (target.startsWith("@")) {
      const id = target.slice(1);
      return `<span class="mention" data-user-id="${escapeHtml(id)}">@${escapeHtml(userName(id, ctx))}</span>`;
    }
    if (target.startsWith("#")) {
      const id = target.slice(1);
      return `<span class="mention channel-mention" data-channel-id="${escapeHtml(id)}">#${escapeHtml(channelName(id, label, ctx))}</span>`;
    }
    if (target.startsWith("!subteam^")) {
      const id = target.slice("!subteam^".length);
      const group = ctx && ctx.usergroups && ctx.usergroups[id];
      const handle = label || (group ? `@${group.handle}` : "@group");
      return `<span class="mention" data-subteam-id="${escapeHtml(id)}">${escapeHtml(handle)}</span>`;
    }
    if (target.startsWith("!date^")) {
      return escapeHtml(label || target);
    }
    if (target.startsWith("!")) {
      return `<span class="mention broadcast">@${escapeHtml(target.slice(1))}</span>`;
    }
    const href = escapeHtml(safeUrl(target));
    return `<a href="${href}" target="_blank" rel="noopener">${escapeHtml(label || target)}</a>`;
  }

  function inline(text, ctx) {
    const saved = [];
    const keep = (html) => `\u0000${saved.push(html) - 1}\u0000`;
    let out = String(text)
      .replace(/<([^<>\n]+)>/g, (_, inner) => keep(token(inner, ctx)))
      .replace(/`([^`\n]+)`/g, (_, code) => keep(`<code>${escapeHtml(code)}</code>`));
    out = Emoji.replace(escapeHtml(out));
    out = out
      .replace(/(^|[\s(])\*([^*\n]+)\*(?=$|[\s).,!?:;])/g, "$1<b>$2</b>")
      .replace(/(^|[\s(])_([^_\n]+)_(?=$|[\s).,!?:;])/g, "$1<i>$2</i>")
      .replace(/(^|[\s(])~([^~\n]+)~(?=$|[\s).,!?:;])/g, "$1<s>$2</s>");
    out = out
      .split("\n")
      .map((line) => (line.startsWith("&gt; ") || line === "&gt;"
        ? `<blockquote>${line.replace(/^&gt; ?/, "")}</blockquote>`
        : line))
      .join("<br>")
      .replace(/<\/blockquote><br><blockquote>/g, "<br>");
    return out.replace(/\u0000(\d+)\u0000/g, (_, i) => saved[Number(i)]);
  }

  function render(text, ctx) {
    const parts = String(text || "").split("```");
    return parts
      .map((part, i) => (i % 2 === 1
        ? `<pre class="code-block">${escapeHtml(part.replace(/^\n/, ""))}</pre>`
        : inline(part, ctx)))
      .join("");
  }

  function textObject(obj, ctx) {
    if (!obj) return "";
    return obj.type === "mrkdwn" ? render(obj.text, ctx) : plain(obj.text, obj.emoji);
  }

  return { render, plain, textObject, escapeHtml };
})();
