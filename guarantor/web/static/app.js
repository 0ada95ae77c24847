// Draws every chart on the page from the JSON spec beside its canvas, with the bundled Chart.js.
"use strict";
(function () {
  // One meaning, one colour, in the report and here: guarantor/palette.py, handed over by the page.
  const THEME = JSON.parse(document.getElementById("palette").textContent);
  const PALETTE = THEME.series;

  // The indicator's precision (decimal places), or at most two: the exact value stays in the API.
  function rounded(v, places) { return places === null || places === undefined ? String(Math.round(v * 100) / 100) : v.toFixed(places); }
  function color(label, i) {
    const text = String(label);
    const key = text.toUpperCase().replace(/ /g, "_");  // "at risk" is AT_RISK
    return THEME.colors[text] || THEME.colors[key] || THEME.colors[text.split(" ")[0]] || PALETTE[i % PALETTE.length];
  }

  function categorical(spec) {
    const doughnut = spec.type === "doughnut";
    return {
      type: spec.type,
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map((d, i) => ({
          label: d.label,
          data: d.data,
          // one dataset over meaningful categories (T0–T4, E0–E2): each bar in its category's colour
          backgroundColor: doughnut || (spec.datasets.length === 1 && spec.labels.every((l) => THEME.colors[String(l).split(" ")[0]]))
            ? spec.labels.map((l, j) => color(l, j)) : color(d.label, i),
          borderWidth: doughnut ? 1 : 0,
          maxBarThickness: 64,
        })),
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        indexAxis: spec.horizontal ? "y" : "x",
        plugins: { legend: { display: doughnut || spec.datasets.length > 1, position: doughnut ? "right" : "top" } },
        scales: doughnut ? {} : {
          x: { stacked: spec.stacked },
          y: { stacked: spec.stacked, beginAtZero: true, title: { display: !!spec.unit, text: spec.unit } },
        },
      },
    };
  }

  function timeseries(spec) {
    const points = spec.points.map(([t, v]) => ({ x: Date.parse(t), y: v }));
    const xs = points.map((p) => p.x);
    const DAY = 86400000;
    let lo = Math.min(...xs), hi = Math.max(...xs);
    if (hi - lo < DAY / 24) { lo -= DAY / 2; hi += DAY / 2; }  // a single point still gets a readable axis
    const ys = points.map((p) => p.y).concat(spec.targets);
    const floor = Math.min(...ys);
    const datasets = [{ label: spec.label, data: points, borderColor: PALETTE[0], backgroundColor: PALETTE[0], pointRadius: points.length > 60 ? 0 : 2, borderWidth: 1.5, tension: 0 }];
    spec.targets.forEach((t, i) => datasets.push({
      label: spec.targets.length > 1 ? `target bound ${i + 1}` : "target",
      data: [{ x: lo, y: t }, { x: hi, y: t }], borderColor: THEME.colors.BROKEN, borderDash: [6, 4], pointRadius: 0,
    }));
    const marks = spec.marks.map(([t, item]) => ({ x: Date.parse(t), y: floor, item })).filter((m) => m.x >= lo && m.x <= hi);
    if (marks.length) {
      datasets.push({ type: "scatter", label: "work closed", data: marks, pointStyle: "triangle", pointRadius: 6, backgroundColor: THEME.colors.MET });
    }
    return {
      type: "line",
      data: { datasets },
      options: {
        maintainAspectRatio: false,
        animation: false,
        parsing: false,
        scales: {
          x: { type: "linear", min: lo, max: hi, ticks: { maxTicksLimit: 8, callback: (v) => new Date(v).toISOString().slice(5, 16).replace("T", " ") } },
          y: { suggestedMin: Math.min(...ys), suggestedMax: Math.max(...ys), title: { display: !!spec.unit, text: spec.unit } },
        },
        plugins: {
          tooltip: {
            callbacks: {
              title: (items) => new Date(items[0].parsed.x).toISOString().slice(0, 16).replace("T", " ") + " UTC",
              label: (c) => (c.raw.item ? `closed ${c.raw.item}` : `${c.dataset.label}: ${rounded(c.parsed.y, spec.precision)} ${spec.unit}`),
            },
          },
        },
      },
    };
  }

  document.querySelectorAll(".chart[data-height]").forEach((box) => { box.style.height = box.dataset.height + "px"; });
  document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
    const spec = JSON.parse(document.getElementById(canvas.dataset.chart).textContent);
    new Chart(canvas, spec.type === "time" ? timeseries(spec) : categorical(spec));
    canvas.dataset.drawn = "true";
  });
})();
