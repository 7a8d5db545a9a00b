// Highlight the paragraphs that support a summary sentence when it is clicked or focused.
// The page reads as well without this: sentences link to paragraphs and paragraphs back.
(() => {
  "use strict";
  const data = JSON.parse(document.getElementById("mtsum-data").textContent);
  const sentences = Array.from(document.querySelectorAll("#summary .sentence"));
  const status = document.getElementById("selection");
  let current = null;

  function clear() {
    for (const cell of document.querySelectorAll("#article .hit")) cell.classList.remove("hit");
    for (const badge of document.querySelectorAll("#article .score")) badge.textContent = "";
    for (const item of sentences) item.removeAttribute("aria-current");
  }

  function select(item) {
    if (item === current) return;
    clear();
    current = item;
    item.setAttribute("aria-current", "true");
    const index = Number(item.dataset.index);
    const alignments = data.sentences[index].alignments;
    // A paragraph in several alignments (alone and in a fused pair) shows its best score.
    const scores = new Map();
    for (const alignment of alignments) {
      for (const p of alignment.paragraphs) {
        scores.set(p, Math.max(scores.get(p) ?? 0, alignment.score));
      }
    }
    for (const [p, score] of scores) {
      const row = document.getElementById("p" + (p + 1));
      if (!row) continue;
      for (const cell of row.querySelectorAll("td.text")) cell.classList.add("hit");
      row.querySelector(".score").textContent = score.toFixed(2);
    }
    const numbers = alignments.map((a) => "¶" + a.paragraphs.map((p) => p + 1).join("+"));
    status.textContent = numbers.length
      ? "Sentence " + (index + 1) + " is supported by " + numbers.join(", ") + "."
      : "No paragraph supports sentence " + (index + 1) + ".";
    if (alignments.length) {
      const best = document.getElementById("p" + (alignments[0].paragraphs[0] + 1));
      const still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      if (best) best.scrollIntoView({ block: "center", behavior: still ? "auto" : "smooth" });
    }
  }

  for (const item of sentences) {
    item.addEventListener("click", () => select(item));
    item.addEventListener("focus", () => select(item));
    item.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        current = null;
        select(item);
      }
    });
  }
})();
