// The dashboard's pages: each is a filter bar, cards, charts and tables, all filled from the read API
// (/api/...). Chart.js comes from /static/vendor (installed from npm by `make setup`); nothing is fetched
// from the network. Every chart has its data as a table beside it, and a CSV link to the same rows.
"use strict";

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const GENDER_COLORS = { Female: "#d62728", Male: "#1f77b4", Other: "#2ca02c", Unknown: "#7f7f7f" };
const LIVE_REFRESH_MS = 3000;

// `generation` counts refreshes: an answer to an older refresh (filters changed meanwhile) is dropped, so
// the visuals always show the latest filters whatever order the answers arrive in.
const dashboard = { charts: {}, data: {}, loads: 0, generation: 0 };
window.dashboard = dashboard;
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;

// ---- small helpers -------------------------------------------------------------------------------------
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) node.append(child);
  return node;
}

const number = new Intl.NumberFormat("en", { maximumFractionDigits: 2 });
const money = new Intl.NumberFormat("en", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
function show(value, kind) {
  if (value === null || value === undefined) return "–";
  if (Array.isArray(value)) return value.join(", ");
  if (kind === "money") return money.format(value);
  if (kind === "pct") return `${number.format(value)} %`;
  if (typeof value === "number") return number.format(value);
  return String(value);
}

function colorOf(label, index) {
  return GENDER_COLORS[label] || COLORS[index % COLORS.length];
}

async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
}

// ---- filters ---------------------------------------------------------------------------------------------
// A filter bar over the page's options; its state lives in the URL so that a view can be shared.
function filterBar(spec, options, onChange) {
  const params = new URLSearchParams(location.search);
  const bar = el("form", { class: "filters", id: "filters" });
  const inputs = {};
  if (spec.dates) {
    for (const name of ["start", "end"]) {
      const input = el("input", { type: "date", name, id: `filter-${name}`, min: options.start || "", max: options.end || "" });
      input.value = params.get(name) || "";
      inputs[name] = input;
      bar.append(el("label", {}, name === "start" ? "From" : "To", input));
    }
  }
  for (const name of spec.multi || []) {
    const chosen = new Set(params.getAll(name));
    const select = el("select", { multiple: true, name, id: `filter-${name}` });
    for (const value of options[name] || []) select.append(el("option", { value, selected: chosen.has(value) }, value));
    inputs[name] = select;
    bar.append(el("label", {}, `${name[0].toUpperCase()}${name.slice(1)} (none = all)`, select));
  }
  const reset = el("button", { type: "button", id: "filter-reset" }, "Reset");
  reset.addEventListener("click", () => {
    for (const input of Object.values(inputs)) {
      if (input.multiple) for (const option of input.options) option.selected = false;
      else input.value = "";
    }
    changed();
  });
  bar.append(reset);
  function query() {
    const out = new URLSearchParams();
    for (const [name, input] of Object.entries(inputs)) {
      if (input.multiple) for (const option of input.selectedOptions) out.append(name, option.value);
      else if (input.value) out.append(name, input.value);
    }
    return out;
  }
  function changed() {
    const q = query().toString();
    history.replaceState(null, "", q ? `?${q}` : location.pathname);
    onChange(query());
  }
  bar.addEventListener("change", changed);
  bar.addEventListener("submit", (event) => { event.preventDefault(); changed(); });
  return { node: bar, query };
}

// ---- panels: a chart and/or a table, with the table's CSV -----------------------------------------------
function panel(id, title, { chart = true, open = false } = {}) {
  const csv = el("a", { href: "#", id: `${id}-csv`, download: `${id}.csv` }, "CSV");
  const node = el("section", { class: "panel", id }, el("h2", {}, el("span", {}, title), csv));
  const message = el("p", { class: "message" });
  node.append(message);
  let canvas = null;
  if (chart) {
    canvas = el("canvas", { id: `${id}-chart` });
    node.append(el("div", { class: "chart" }, canvas));
  }
  const table = el("div", { class: "scroll", id: `${id}-table` });
  node.append(chart ? el("details", { open }, el("summary", {}, "Data"), table) : table);
  return { node, canvas, table, csv, message };
}

function fillTable(target, rows, columns) {
  target.replaceChildren();
  if (!rows.length) {
    target.append(el("p", { class: "empty" }, "No rows for this filter."));
    return;
  }
  const head = el("tr", {}, ...columns.map(([key, label]) => el("th", {}, label || key)));
  const body = rows.map((row) =>
    el("tr", {}, ...columns.map(([key, , kind]) => {
      const cell = el("td", { class: typeof row[key] === "number" ? "num" : "", "data-column": key }, show(row[key], kind));
      if (row[key] !== null && row[key] !== undefined) cell.setAttribute("data-value", JSON.stringify(row[key]));
      return cell;
    })));
  target.append(el("table", {}, el("thead", {}, head), el("tbody", {}, ...body)));
}

// Draws (or updates in place) a chart from rows: one dataset per `series` value, x from `x`, y from `y`.
function drawChart(id, canvas, type, rows, { x, y, series, stacked = false, horizontal = false, percent = false }) {
  const labels = [...new Set(rows.map((row) => row[x]))];
  const names = series ? [...new Set(rows.map((row) => row[series]))].sort() : [y];
  const datasets = names.map((name, index) => {
    const values = new Map(rows.filter((row) => !series || row[series] === name).map((row) => [row[x], row[y]]));
    return {
      label: name,
      data: labels.map((label) => values.get(label) ?? 0),
      borderColor: colorOf(name, index),
      backgroundColor: colorOf(name, index),
      pointRadius: 0,
      borderWidth: type === "line" ? 2 : 0,
    };
  });
  const scale = { stacked, ...(percent ? { max: 100 } : {}) };
  const config = {
    type,
    data: { labels, datasets },
    options: {
      indexAxis: horizontal ? "y" : "x",
      interaction: { mode: "index", intersect: false },
      scales: { x: horizontal ? scale : { stacked }, y: horizontal ? { stacked } : scale },
      plugins: { legend: { position: "bottom" } },
    },
  };
  const existing = dashboard.charts[id];
  if (existing) {
    existing.data = config.data;
    existing.options = config.options;
    existing.update("none");
  } else {
    dashboard.charts[id] = new Chart(canvas, config);
  }
}

// Loads one visual: fetches its endpoint with the filter query, keeps the rows, fills chart and table.
async function loadPanel(view, endpoint, query, render, generation = dashboard.generation) {
  const url = `/api/${endpoint}${query.toString() ? `?${query}` : ""}`;
  const csvQuery = new URLSearchParams(query);
  csvQuery.set("format", "csv");
  view.csv.href = `/api/${endpoint}?${csvQuery}`;
  try {
    const body = await getJSON(url);
    if (generation !== dashboard.generation) return null;
    view.message.textContent = "";
    view.node.classList.remove("error");
    dashboard.data[view.node.id] = body;
    render(body);
    return body;
  } catch (error) {
    if (generation !== dashboard.generation) return null;
    view.message.textContent = error.message;
    view.node.classList.add("error");
    dashboard.data[view.node.id] = { error: error.message };
    return null;
  }
}

// Marks the page as showing the answers to `query` (tests and the benchmark wait for it).
function loaded(description, query, generation) {
  if (generation !== dashboard.generation) return;
  document.body.dataset.query = query.toString();
  dashboard.loads += 1;
  document.body.dataset.loads = String(dashboard.loads);
  document.body.dataset.state = "ready";
  document.getElementById("status").textContent = description;
}

function card(id, title) {
  const value = el("div", { class: "value", id: `card-${id}` }, "–");
  return { node: el("div", { class: "card" }, el("h3", {}, title), value), value };
}

function setCard(target, value, kind) {
  target.textContent = show(value, kind);
  target.setAttribute("data-value", JSON.stringify(value));
}

async function options(endpoint) {
  try {
    return await getJSON(`/api/${endpoint}`);
  } catch (error) {
    return { error: error.message };
  }
}

// ---- pages -----------------------------------------------------------------------------------------------
async function insightsPage(main) {
  const choices = await options("insights/options");
  const products = card("products-sold", "Total products sold");
  const revenue = card("revenue", "Total revenue");
  const customers = card("customers", "Customers");
  const splitList = el("ul", { id: "card-gender-split" });
  const split = el("div", { class: "card" }, el("h3", {}, "Customers by gender"), splitList);
  const revenueTrend = panel("revenue-trend", "Revenue over time by gender");
  const unitsTrend = panel("units-trend", "Products sold over time by gender");
  const byCategory = panel("category-revenue", "Revenue by category and gender");
  const categorySplit = panel("category-split", "Gender split of customers within each category (%)");
  const bar = filterBar({ dates: true, multi: ["gender", "category"] }, choices, refresh);
  const cards = {
    node: el("div", { class: "cards", id: "insights-cards" }, products.node, revenue.node, customers.node, split),
    message: el("p", { class: "message" }),
    csv: el("a", { id: "insights-cards-csv", download: "insights_cards.csv" }, "CSV of the gender split"),
  };
  main.append(
    bar.node,
    cards.node,
    el("p", {}, cards.message, cards.csv),
    el("div", { class: "grid" }, revenueTrend.node, unitsTrend.node, byCategory.node, categorySplit.node),
  );
  async function refresh(query) {
    const generation = ++dashboard.generation;
    document.body.dataset.state = "loading";
    await Promise.all([
      loadPanel(cards, "insights/cards", query, (body) => {
        setCard(products.value, body.products_sold);
        setCard(revenue.value, body.revenue, "money");
        setCard(customers.value, body.customers);
        splitList.replaceChildren(...body.gender_split.map((row) =>
          el("li", { "data-gender": row.gender, "data-value": JSON.stringify(row.customers_pct) },
            `${row.gender}: ${show(row.customers_pct, "pct")} (${show(row.customers)})`)));
      }),
      loadPanel(revenueTrend, "insights/trend", query, (body) => {
        drawChart("revenue-trend", revenueTrend.canvas, "line", body.rows, { x: "sale_date", y: "revenue", series: "gender" });
        drawChart("units-trend", unitsTrend.canvas, "line", body.rows, { x: "sale_date", y: "products_sold", series: "gender" });
        const columns = [["sale_date", "Date"], ["gender", "Gender"], ["revenue", "Revenue", "money"], ["products_sold", "Products sold"]];
        fillTable(revenueTrend.table, body.rows, columns);
        fillTable(unitsTrend.table, body.rows, columns);
        unitsTrend.csv.href = revenueTrend.csv.href;
      }),
      loadPanel(byCategory, "insights/by-category", query, (body) => {
        drawChart("category-revenue", byCategory.canvas, "bar", body.rows, { x: "category", y: "revenue", series: "gender" });
        drawChart("category-split", categorySplit.canvas, "bar", body.rows,
          { x: "category", y: "customers_pct", series: "gender", stacked: true, horizontal: true, percent: true });
        const columns = [["category", "Category"], ["gender", "Gender"], ["revenue", "Revenue", "money"],
          ["products_sold", "Products sold"], ["customers", "Customers"], ["customers_pct", "Customers %", "pct"],
          ["revenue_pct", "Revenue %", "pct"]];
        fillTable(byCategory.table, body.rows, columns);
        fillTable(categorySplit.table, body.rows, columns);
        categorySplit.csv.href = byCategory.csv.href;
      }),
    ]);
    loaded(`insights: ${query.toString() || "no filter"}`, query, generation);
  }
  await refresh(bar.query());
}

async function salesPage(main) {
  const choices = await options("sales/options");
  const regionCategory = panel("region-category", "Net revenue by region and category");
  const stores = panel("store-benchmark", "Store benchmarking: revenue index against peers (100 = peer median)");
  const trend = panel("sales-trend", "Daily net revenue by channel");
  const bar = filterBar({ dates: true, multi: ["region", "category", "channel"] }, choices, refresh);
  main.append(bar.node, el("div", { class: "grid" }, regionCategory.node, trend.node, stores.node));
  async function refresh(query) {
    const generation = ++dashboard.generation;
    document.body.dataset.state = "loading";
    await Promise.all([
      loadPanel(regionCategory, "sales/by-region-category", query, (body) => {
        drawChart("region-category", regionCategory.canvas, "bar", body.rows, { x: "region", y: "net_revenue", series: "category", stacked: true });
        fillTable(regionCategory.table, body.rows, [["region", "Region"], ["category", "Category"],
          ["net_revenue", "Net revenue", "money"], ["gross_revenue", "Gross revenue", "money"], ["quantity_sold", "Units"]]);
      }),
      loadPanel(stores, "sales/stores", query, (body) => {
        const ranked = [...body.rows].sort((a, b) => (b.revenue_index ?? -1) - (a.revenue_index ?? -1)).slice(0, 25);
        drawChart("store-benchmark", stores.canvas, "bar", ranked.map((row) => ({ ...row, label: `${row.store_id} ${row.name ?? ""}` })),
          { x: "label", y: "revenue_index" });
        fillTable(stores.table, body.rows, [["store_id", "Store"], ["name", "Name"], ["region", "Region"], ["format", "Format"],
          ["net_revenue", "Net revenue", "money"], ["quantity_sold", "Units"], ["peer_stores", "Peers"],
          ["peer_rank", "Rank"], ["revenue_index", "Index"]]);
      }),
      loadPanel(trend, "sales/trend", query, (body) => {
        drawChart("sales-trend", trend.canvas, "line", body.rows, { x: "sale_date", y: "net_revenue", series: "channel" });
        fillTable(trend.table, body.rows, [["sale_date", "Date"], ["channel", "Channel"],
          ["net_revenue", "Net revenue", "money"], ["quantity_sold", "Units"]]);
      }),
    ]);
    loaded(`sales: ${query.toString() || "no filter"}`, query, generation);
  }
  await refresh(bar.query());
}

async function inventoryPage(main) {
  const choices = await options("inventory/options");
  const short = panel("short-positions", "Positions below safety stock or reorder point", { chart: false });
  const alerts = panel("latest-alerts", "Latest alerts", { chart: false });
  const stock = panel("stock-by-store", "Stock on hand by store");
  const orders = panel("replenishment", "Replenishment suggestions (reorder point − on hand)", { chart: false });
  const shortCount = card("short-positions", "Positions short");
  const alertCount = card("alerts", "Latest alerts shown");
  const version = card("positions-version", "Positions table version");
  const bar = filterBar({ dates: false, multi: ["store"] }, choices, refresh);
  main.append(bar.node, el("div", { class: "cards" }, shortCount.node, alertCount.node, version.node),
    el("div", { class: "grid" }, short.node, alerts.node, stock.node, orders.node));
  async function refresh(query) {
    const generation = ++dashboard.generation;
    const limited = new URLSearchParams(query);
    await Promise.all([
      loadPanel(short, "inventory/short-positions", limited, (body) => {
        setCard(shortCount.value, body.rows.length);
        setCard(version.value, body.versions["gold/inventory_positions"]);
        fillTable(short.table, body.rows, [["store_id", "Store"], ["product_id", "Product"], ["quantity_on_hand", "On hand"],
          ["safety_stock_quantity", "Safety stock"], ["reorder_point_quantity", "Reorder point"], ["shortfall", "Shortfall"],
          ["last_change_ts", "Last change"]]);
      }),
      loadPanel(alerts, "inventory/alerts", limited, (body) => {
        setCard(alertCount.value, body.rows.length);
        fillTable(alerts.table, body.rows, [["alert_ts", "At"], ["store_id", "Store"], ["product_id", "Product"],
          ["alert_type", "Type"], ["quantity_on_hand", "On hand"], ["threshold", "Threshold"]]);
      }),
      loadPanel(stock, "inventory/stores", query, (body) => {
        drawChart("stock-by-store", stock.canvas, "bar", body.rows, { x: "store_id", y: "quantity_on_hand" });
        fillTable(stock.table, body.rows, [["store_id", "Store"], ["positions", "Positions"], ["quantity_on_hand", "On hand"],
          ["below_safety_stock", "Below safety"], ["below_reorder_point", "Below reorder point"], ["last_change_ts", "Last change"]]);
      }),
      loadPanel(orders, "inventory/replenishment", limited, (body) => {
        fillTable(orders.table, body.rows, [["store_id", "Store"], ["product_id", "Product"], ["quantity_on_hand", "On hand"],
          ["reorder_point_quantity", "Reorder point"], ["basis", "Basis"], ["order_quantity", "Order"]]);
      }),
    ]);
    loaded(`inventory refreshed ${new Date().toLocaleTimeString()} (every ${LIVE_REFRESH_MS / 1000} s)`, query, generation);
  }
  await refresh(bar.query());
  // Live: the stream merges into the positions while this page is open; re-read every few seconds.
  setInterval(() => { if (!document.hidden) refresh(bar.query()); }, LIVE_REFRESH_MS);
}

async function customersPage(main) {
  const segments = panel("rfm-segments", "RFM segments: customers and lifetime value");
  const rules = panel("association-rules", "Top association rules (by lift)", { chart: false });
  const recommendations = panel("recommendations", "Recommendations per product", { chart: false });
  const prices = panel("price-recommendations", "Price recommendations: projected annual margin");
  const product = el("input", { type: "search", id: "recommendation-product", placeholder: "product id (all when empty)" });
  recommendations.node.insertBefore(el("form", { class: "filters" }, el("label", {}, "Product", product)), recommendations.table);
  main.append(el("div", { class: "grid" }, segments.node, prices.node, rules.node, recommendations.node));
  async function loadRecommendations() {
    const query = new URLSearchParams(product.value ? { product: product.value } : {});
    await loadPanel(recommendations, "basket/recommendations", query, (body) => {
      fillTable(recommendations.table, body.rows, [["product_id", "Product"], ["product_name", "Name"],
        ["recommended_product_id", "Recommend"], ["recommended_product_name", "Name"], ["rank", "Rank"],
        ["lift", "Lift"], ["confidence", "Confidence"]]);
    });
  }
  product.form.addEventListener("submit", (event) => { event.preventDefault(); loadRecommendations(); });
  product.addEventListener("change", loadRecommendations);
  await Promise.all([
    loadPanel(segments, "customers/segments", new URLSearchParams(), (body) => {
      drawChart("rfm-segments", segments.canvas, "bar", body.rows, { x: "rfm_segment", y: "customers" });
      fillTable(segments.table, body.rows, [["rfm_segment", "Segment"], ["customers", "Customers"], ["customers_pct", "Share", "pct"],
        ["lifetime_value", "Lifetime value", "money"], ["avg_lifetime_value", "Avg value", "money"],
        ["avg_transactions", "Avg transactions"], ["avg_days_since_purchase", "Avg days since purchase"]]);
    }),
    loadPanel(rules, "basket/rules", new URLSearchParams(), (body) => {
      fillTable(rules.table, body.rows, [["antecedent_names", "If a basket has"], ["consequent_name", "it also has"],
        ["confidence", "Confidence"], ["lift", "Lift"], ["support", "Support"], ["baskets", "Baskets"]]);
    }),
    loadRecommendations(),
    loadPanel(prices, "pricing/recommendations", new URLSearchParams({ limit: "50" }), (body) => {
      drawChart("price-recommendations", prices.canvas, "bar", body.rows.slice(0, 15), { x: "product_id", y: "margin_gain" });
      fillTable(prices.table, body.rows, [["product_id", "Product"], ["product_name", "Name"], ["category", "Category"],
        ["current_price", "Price", "money"], ["recommended_price", "Recommended", "money"], ["competitor_price", "Competitor", "money"],
        ["elasticity", "Elasticity"], ["current_annual_margin", "Margin now", "money"],
        ["projected_annual_margin", "Projected margin", "money"], ["margin_gain", "Gain", "money"]]);
    }),
  ]);
  loaded("customers, basket and pricing", new URLSearchParams(), dashboard.generation);
}

const PAGES = { insights: insightsPage, sales: salesPage, inventory: inventoryPage, customers: customersPage };
document.addEventListener("DOMContentLoaded", () => {
  const main = document.getElementById("page");
  PAGES[document.body.dataset.page](main).catch((error) => {
    main.append(el("p", { class: "error" }, `The page could not load: ${error.message}`));
    document.body.dataset.state = "error";
  });
});
