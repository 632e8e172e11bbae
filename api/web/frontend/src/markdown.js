// A small Markdown renderer for problem statements, which are author input: it builds DOM nodes and sets
// every piece of text with textContent, never innerHTML, so raw HTML in a statement (a <script>, an
// <img onerror>) shows as the text it is and nothing in it runs. Links keep only http(s), mailto and
// same-site URLs (no javascript:). Covers what statements use: paragraphs, headings, lists, block quotes,
// fenced code, rules, `code`, *emphasis*, **strong** and [links](url); the rest shows as written.

const FENCE = /^\s*(```|~~~)/;
const HEADING = /^(#{1,6})\s+(.*?)(\s+#+)?\s*$/;
const RULE = /^\s{0,3}([-*_])(\s*\1){2,}\s*$/;
const QUOTE = /^\s{0,3}>\s?/;
const ITEM = /^\s{0,3}([-*+]|\d{1,9}[.)])\s+/;
const ESCAPABLE = /[\\`*_[\]()#+\-.!<>{}|~$]/;
const SAFE_URL = /^(https?:|mailto:|\/(?!\/)|#|\.{0,2}\/?[^:]*$)/i;

function element(tag, text) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  return node;
}

const startsBlock = (line) =>
  FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) || ITEM.test(line);

/** The index of the first `marker` in `text` at or after `from` that closes a span (-1: none). */
function closing(text, marker, from) {
  for (let i = from; i <= text.length - marker.length; i += 1) {
    if (text[i] === "\\") i += 1;
    else if (text.startsWith(marker, i) && text[i - 1] !== " ") return i;
  }
  return -1;
}

/** Append `text`'s inline Markdown to `parent`. */
function renderInline(text, parent) {
  let plain = "";
  const flush = () => {
    if (plain) parent.append(document.createTextNode(plain));
    plain = "";
  };
  let i = 0;
  while (i < text.length) {
    const char = text[i];
    if (char === "\\" && ESCAPABLE.test(text[i + 1] ?? "")) {
      plain += text[i + 1];
      i += 2;
      continue;
    }
    if (char === "`") {
      const run = text.slice(i).match(/^`+/)[0];
      const end = text.indexOf(run, i + run.length);
      if (end > 0) {
        flush();
        parent.append(element("code", text.slice(i + run.length, end).trim() || " "));
        i = end + run.length;
        continue;
      }
    }
    const strong = text.startsWith("**", i) ? "**" : text.startsWith("__", i) ? "__" : null;
    if (strong && text[i + 2] && text[i + 2] !== " ") {
      const end = closing(text, strong, i + 3);
      if (end > 0) {
        flush();
        const node = element("strong");
        renderInline(text.slice(i + 2, end), node);
        parent.append(node);
        i = end + 2;
        continue;
      }
    }
    // `_` inside a word (snake_case) is not emphasis.
    const emphasis = char === "*" || (char === "_" && !/\w/.test(text[i - 1] ?? ""));
    if (emphasis && text[i + 1] && text[i + 1] !== " ") {
      const end = closing(text, char, i + 2);
      if (end > 0 && (char === "*" || !/\w/.test(text[end + 1] ?? ""))) {
        flush();
        const node = element("em");
        renderInline(text.slice(i + 1, end), node);
        parent.append(node);
        i = end + 1;
        continue;
      }
    }
    if (char === "[") {
      const link = text.slice(i).match(/^\[([^\]]+)\]\(\s*([^\s)]+)\s*\)/);
      if (link) {
        flush();
        const [whole, label, url] = link;
        if (SAFE_URL.test(url)) {
          const anchor = element("a");
          anchor.href = url;
          anchor.rel = "noopener noreferrer nofollow";
          renderInline(label, anchor);
          parent.append(anchor);
        } else {
          renderInline(label, parent); // an unsafe link keeps its words, not its target
        }
        i += whole.length;
        continue;
      }
    }
    plain += char;
    i += 1;
  }
  flush();
}

function renderList(lines, start, parent) {
  const ordered = /\d/.test(lines[start].match(ITEM)[1]);
  const list = element(ordered ? "ol" : "ul");
  const first = Number.parseInt(lines[start].match(ITEM)[1], 10);
  if (ordered && first !== 1) list.start = first;
  const items = [];
  let i = start;
  while (i < lines.length) {
    const line = lines[i];
    const marker = line.match(ITEM);
    if (marker && /\d/.test(marker[1]) === ordered) items.push(line.slice(marker[0].length));
    else if (line.trim() && !startsBlock(line) && items.length) items[items.length - 1] += `\n${line.trim()}`;
    else if (!line.trim() && ITEM.test(lines[i + 1] ?? "")) {
      // a blank line between two items keeps the list going
    } else break;
    i += 1;
  }
  for (const item of items) {
    const node = element("li");
    renderInline(item, node);
    list.append(node);
  }
  parent.append(list);
  return i;
}

/** Append the blocks of `lines` to `parent`; `depth` offsets heading levels below the page's own. */
function renderBlocks(lines, parent, depth) {
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      i += 1;
    } else if (FENCE.test(line)) {
      const fence = line.match(FENCE)[1];
      const code = [];
      for (i += 1; i < lines.length && !lines[i].trim().startsWith(fence); i += 1) code.push(lines[i]);
      i += 1;
      const pre = element("pre");
      pre.append(element("code", code.join("\n")));
      parent.append(pre);
    } else if (HEADING.test(line)) {
      const [, hashes, text] = line.match(HEADING);
      const heading = element(`h${Math.min(6, hashes.length + depth)}`);
      renderInline(text, heading);
      parent.append(heading);
      i += 1;
    } else if (RULE.test(line)) {
      parent.append(element("hr"));
      i += 1;
    } else if (QUOTE.test(line)) {
      const quoted = [];
      for (; i < lines.length && QUOTE.test(lines[i]); i += 1) quoted.push(lines[i].replace(QUOTE, ""));
      const quote = element("blockquote");
      renderBlocks(quoted, quote, depth);
      parent.append(quote);
    } else if (ITEM.test(line)) {
      i = renderList(lines, i, parent);
    } else {
      const text = [];
      for (; i < lines.length && lines[i].trim() && !(text.length && startsBlock(lines[i])); i += 1)
        text.push(lines[i].trim());
      const paragraph = element("p");
      renderInline(text.join("\n"), paragraph);
      parent.append(paragraph);
    }
  }
}

/** Replace `container`'s content with `markdown` rendered; its `#` headings become h(1 + depth). */
export function renderMarkdown(markdown, container, depth = 1) {
  container.replaceChildren();
  renderBlocks(markdown.replace(/\r\n?/g, "\n").split("\n"), container, depth);
}
