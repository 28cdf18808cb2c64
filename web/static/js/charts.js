// Issue 23: charts and the map drawn with the vendored Apache ECharts (static/vendor/echarts,
// no CDN: county intranets are offline). Each chart is a <figure data-chart> holding a
// <script type="application/json"> spec written by the server and a fallback (a table of the
// numbers, or the SVG map) that stays the page's content without JavaScript. ECharts is loaded
// only on pages that have a chart. Numbers are formatted for the page's language.
"use strict";
(function () {
  var figures = document.querySelectorAll("figure[data-chart]");
  if (!figures.length) { return; }
  var lang = (document.documentElement.lang || "zh-CN").indexOf("zh") === 0 ? "zh-CN" : "en";
  var format = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
  var ink = "#1f2328";
  var muted = "#5b6470";
  var font = 13;

  function number(value) { return format.format(value); }

  function escape(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function tooltip(formatter, trigger) {
    return {
      trigger: trigger || "item", confine: true, formatter: formatter,
      textStyle: { fontSize: font, color: ink }, borderColor: "#d8dde3",
    };
  }

  // Horizontal bars, one row per item: its label, and its value text on the line below, above
  // the bar, so long texts ("78% (3,411,483 元 / 4,357,441 元)") are never cut at a narrow
  // card's edge; the value axis below names its unit.
  function bars(spec) {
    var rows = spec.rows;
    return {
      height: rows.length * 66 + 64,
      option: {
        animation: false,
        grid: { left: 4, right: 28, top: 40, bottom: 44, containLabel: false },
        tooltip: tooltip(function (p) {
          var row = rows[p.dataIndex];
          return escape(row.label) + "<br>" + escape(row.text);
        }),
        xAxis: {
          type: "value", max: spec.max || null, name: spec.axis, nameLocation: "middle",
          nameGap: 28, nameTextStyle: { color: muted, fontSize: 12 },
          axisLabel: { color: muted, fontSize: 12, hideOverlap: true, formatter: number },
          splitLine: { lineStyle: { color: "#eef0f3" } },
        },
        yAxis: { type: "category", inverse: true, show: false, data: rows.map(function (r) { return r.label; }) },
        series: [{
          type: "bar", barWidth: 12, itemStyle: { color: spec.colour || "#b3261e" },
          data: rows.map(function (r) { return r.value; }),
          label: {
            show: true, position: [0, -36], color: ink, fontSize: font, lineHeight: 17,
            formatter: function (p) { return "{name|" + rows[p.dataIndex].label + "}\n" + rows[p.dataIndex].text; },
            rich: { name: { fontWeight: "bold", fontSize: font, color: ink, lineHeight: 17 } },
          },
        }],
      },
    };
  }

  // Grouped vertical bars, one group per week, a legend of the series (their names carry units).
  function weeks(spec, name, width) {
    var narrow = width < 520;
    return {
      height: narrow ? 340 : 300,
      option: {
        animation: false,
        legend: { bottom: 0, textStyle: { fontSize: font, color: ink } },
        grid: { left: 8, right: 12, top: 32, bottom: narrow ? 76 : 44, containLabel: true },
        tooltip: tooltip(function (items) {
          var lines = [escape(items[0].axisValue)];
          items.forEach(function (p) { lines.push(escape(p.seriesName) + ": " + number(p.value)); });
          return lines.join("<br>");
        }, "axis"),
        xAxis: { type: "category", data: spec.weeks, axisLabel: { color: muted, fontSize: 12, hideOverlap: true } },
        yAxis: {
          type: "value", name: spec.axis, nameTextStyle: { color: muted, fontSize: 12, align: "left" },
          axisLabel: { color: muted, fontSize: 12, formatter: number }, minInterval: 1,
        },
        series: spec.series.map(function (s) {
          return { type: "bar", name: s.name, data: s.values, itemStyle: { color: s.colour } };
        }),
      },
    };
  }

  // The districts (registered from the outlines the server sends) and the villages as dots,
  // one series per legend entry; each dot's tooltip is its own text.
  function map(spec, name) {
    echarts.registerMap(name, spec.geo);
    var regions = spec.highlight ? [{ name: spec.highlight, itemStyle: { areaColor: "#fde7e7" } }] : [];
    return {
      height: null,
      option: {
        animation: false,
        legend: spec.legend ? {
          bottom: 0, textStyle: { fontSize: font, color: ink }, itemWidth: 14, itemHeight: 14,
          data: spec.series.filter(function (s) { return s.name; }).map(function (s) { return s.name; }),
        } : { show: false },
        tooltip: tooltip(function (p) {
          if (p.componentType === "geo") { return escape(spec.districts[p.name] || p.name); }
          return escape(p.data.name) + (p.data.tip ? "<br>" + escape(p.data.tip) : "");
        }),
        geo: {
          map: name, roam: true, aspectScale: 1, top: 8, bottom: spec.legend ? 64 : 8, left: 4, right: 4,
          regions: regions, tooltip: { show: true },
          itemStyle: { areaColor: "#ffffff", borderColor: "#5b6470", borderWidth: 1.2 },
          emphasis: { label: { show: false }, itemStyle: { areaColor: "#f2f4f7" } },
          label: { show: false }, select: { disabled: true },
        },
        series: spec.series.map(function (s) {
          return {
            type: "scatter", coordinateSystem: "geo", name: s.name, symbolSize: 9, data: s.dots,
            itemStyle: { color: s.colour, borderColor: ink, borderWidth: 0.6 },
            emphasis: { scale: 1.6 },
          };
        }),
      },
    };
  }

  var kinds = { bars: bars, weeks: weeks, map: map };
  var drawn = [];

  function draw(figure, index) {
    var source = figure.querySelector('script[type="application/json"]');
    var box = figure.querySelector(".echart");
    if (!source || !box) { return; }
    var spec = JSON.parse(source.textContent);
    var make = kinds[spec.type];
    if (!make) { return; }
    figure.classList.add("drawn");
    var built = make(spec, "duijie-map-" + index, box.clientWidth);
    if (built.height) {
      box.style.height = built.height + "px";
    } else {
      box.style.height = Math.round(Math.min(box.clientWidth * (spec.ratio || 0.75), 620) + (spec.legend ? 72 : 16)) + "px";
    }
    var chart = echarts.init(box, null, { locale: lang === "en" ? "EN" : "ZH", renderer: "canvas" });
    chart.setOption(built.option);
    var numbers = figure.querySelector(".chart-numbers");
    if (numbers && numbers.tagName !== "DETAILS") {
      var details = document.createElement("details");
      var summary = document.createElement("summary");
      summary.textContent = figure.getAttribute("data-numbers") || "";
      details.className = "chart-numbers";
      details.appendChild(summary);
      numbers.parentNode.insertBefore(details, numbers);
      details.appendChild(numbers);
      numbers.classList.remove("chart-numbers");
    }
    drawn.push(chart);
  }

  function start() {
    Array.prototype.forEach.call(figures, draw);
    var pending = null;
    window.addEventListener("resize", function () {
      clearTimeout(pending);
      pending = setTimeout(function () { drawn.forEach(function (c) { c.resize(); }); }, 150);
    });
  }

  if (window.echarts) { start(); return; }
  var script = document.createElement("script");
  var self = document.querySelector('script[src*="js/charts.js"]');
  script.src = self.src.replace(/js\/charts\.js.*$/, "vendor/echarts/echarts.min.js");
  script.onload = start;
  document.head.appendChild(script);
})();
