// `/problems`: every stored problem (GET /api/v1/problems), each a link to its page. See
// ../../pages/problem-list.html for the elements used here.
import { listProblems } from "./api.js";
import { describe, hideNotice, showNotice } from "./notice.js";

const byId = (id) => document.getElementById(id);

function row({ slug, title }) {
  const tr = document.createElement("tr");
  const slugCell = document.createElement("td");
  const link = document.createElement("a");
  link.href = `/problems/${encodeURIComponent(slug)}`;
  link.textContent = slug;
  slugCell.append(link);
  const titleCell = document.createElement("td");
  titleCell.textContent = title; // author input: text, never HTML
  tr.append(slugCell, titleCell);
  return tr;
}

async function start() {
  const status = byId("problems-status");
  status.textContent = "Loading…";
  let problems;
  try {
    ({ problems } = await listProblems());
  } catch (error) {
    status.textContent = "";
    showNotice(describe(error, "The problems could not be loaded"), start);
    return;
  }
  hideNotice();
  byId("problem-rows").replaceChildren(...problems.map(row));
  byId("problems-table").hidden = problems.length === 0;
  const count = problems.length;
  status.textContent = count ? `${count} problem${count === 1 ? "" : "s"}.` : "There are no problems yet.";
}

byId("boot-message").hidden = true;
byId("app").hidden = false;
start();
