// Emoji shortcodes as Slack shows them: the ones opsbot sends, and a common set.
// Unknown shortcodes stay as text, as in Slack.
"use strict";

const Emoji = (() => {
  const TABLE = {
    // what opsbot sends
    clipboard: "📋", electric_plug: "🔌", gear: "⚙️", ghost: "👻", grey_question: "❔",
    hourglass: "⌛", hourglass_flowing_sand: "⏳", large_blue_circle: "🔵",
    large_green_circle: "🟢", large_orange_circle: "🟠", large_yellow_circle: "🟡",
    leftwards_arrow_with_hook: "↩️", no_entry: "⛔", no_entry_sign: "🚫",
    octagonal_sign: "🛑", red_circle: "🔴", rotating_light: "🚨", tada: "🎉",
    warning: "⚠️", white_check_mark: "✅", white_circle: "⚪", x: "❌", mag: "🔍",
    // a common set
    "+1": "👍", thumbsup: "👍", "-1": "👎", thumbsdown: "👎", eyes: "👀", fire: "🔥",
    heart: "❤️", smile: "😄", slightly_smiling_face: "🙂", joy: "😂", pray: "🙏",
    raised_hands: "🙌", clap: "👏", ok_hand: "👌", wave: "👋", thinking_face: "🤔",
    rocket: "🚀", bug: "🐛", wrench: "🔧", hammer_and_wrench: "🛠️", lock: "🔒",
    bulb: "💡", memo: "📝", chart_with_upwards_trend: "📈", chart_with_downwards_trend: "📉",
    bar_chart: "📊", bell: "🔔", zap: "⚡", boom: "💥", sos: "🆘", stopwatch: "⏱️",
    calendar: "📅", link: "🔗", pushpin: "📌", heavy_check_mark: "✔️",
    ballot_box_with_check: "☑️", exclamation: "❗", question: "❓", information_source: "ℹ️",
    arrow_right: "➡️", arrow_up: "⬆️", arrow_down: "⬇️", repeat: "🔁", package: "📦",
    robot_face: "🤖", sparkles: "✨", white_check: "✅", green_heart: "💚", sweat_smile: "😅",
  };

  function replace(html) {
    // Applied to escaped HTML text: shortcodes are plain ASCII, never inside a tag here.
    return html.replace(/:([a-z0-9_+-]+):/g, (all, name) => TABLE[name] || all);
  }

  return { TABLE, replace };
})();
