// The nvapps console: the caller's project as a graph (networks, subnets, routers, ports, floating IPs, load
// balancers; chassis for an admin), each object's attributes and live counters, and the basic objects created
// and deleted, all through the REST API with the user's token. No build step: plain browser JavaScript.
"use strict";

const API = "/v2.0";
const TOPOLOGY_EVERY = 5000;     // ms between two reads of the objects
const COUNTERS_EVERY = 2000;     // ms between two reads of the counters
const KINDS = {                  // kind -> [collection path, JSON key]
  network: ["networks", "networks"], subnet: ["subnets", "subnets"], port: ["ports", "ports"],
  router: ["routers", "routers"], floatingip: ["floatingips", "floatingips"],
  loadbalancer: ["lbaas/loadbalancers", "loadbalancers"], chassis: ["chassis", "chassis"],
};
const DELETABLE = new Set(["network", "subnet", "router", "floatingip"]);
const PORT_COUNTERS = ["rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_dropped", "tx_dropped"];

const state = {
  token: null, admin: false, project: "", objects: {}, counters: {ports: {}, floatingips: {}, projects: []},
  selected: null, cy: null, shape: "", timers: [],
};

const $ = (id) => document.getElementById(id);

// ---- the API ----

async function api(method, path, body) {
  const headers = {"X-Auth-Token": state.token};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(API + path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  const text = await resp.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (!resp.ok) {
    const err = data && data.NeutronError;
    const error = new Error(err ? `${err.type}: ${err.message}` : `HTTP ${resp.status}`);
    error.status = resp.status;
    throw error;
  }
  return data;
}

function showError(error) {
  $("error").textContent = error ? String(error.message || error) : "";
  $("error").hidden = !error;
}

async function attempt(action) {
  try {
    await action();
    showError(null);
  } catch (error) {
    showError(error);
  }
}

// ---- logging in and out ----

async function login(token) {
  state.token = token;
  await api("GET", "/networks?fields=id");          // 401 for a wrong token
  try {
    await api("GET", "/chassis");
    state.admin = true;
  } catch (error) {
    if (error.status !== 403) throw error;
    state.admin = false;
  }
  sessionStorage.setItem("nvapps-token", token);
  $("who").textContent = state.admin ? "admin" : "member";
  $("login").hidden = true;
  $("app").hidden = false;
  $("logout").hidden = false;
  $("project-switch").hidden = !state.admin;
  await refresh();
  await refreshCounters();
  document.body.dataset.ready = "true";
  window.nvReadyMs = performance.now();
  state.timers.push(setInterval(() => attempt(refresh), TOPOLOGY_EVERY));
  state.timers.push(setInterval(() => attempt(refreshCounters), COUNTERS_EVERY));
}

function logout() {
  sessionStorage.removeItem("nvapps-token");
  state.timers.forEach(clearInterval);
  location.reload();
}

// ---- reading the objects ----

async function refresh() {
  const kinds = Object.keys(KINDS).filter((k) => k !== "chassis" || state.admin);
  const lists = await Promise.all(kinds.map((k) => api("GET", "/" + KINDS[k][0])
    .then((d) => d[KINDS[k][1]]).catch((error) => {
      if (error.status === 404 || error.status === 403) return [];
      throw error;
    })));
  const objects = {};
  kinds.forEach((k, i) => { objects[k] = lists[i]; });
  state.objects = objects;
  if (state.admin) updateProjects();
  render();
}

async function refreshCounters() {
  const query = state.admin && state.project ? `?project_id=${encodeURIComponent(state.project)}` : "";
  const c = (await api("GET", "/counters" + query)).counters;
  state.counters = {
    ports: Object.fromEntries(c.ports.map((p) => [p.port_id, p])),
    floatingips: Object.fromEntries(c.floatingips.map((f) => [f.floatingip_id, f])),
    projects: c.projects,
  };
  renderMetering();
  renderLive();
}

function updateProjects() {
  const projects = new Set();
  for (const [kind, list] of Object.entries(state.objects)) {
    if (kind !== "chassis") list.forEach((o) => o.project_id && projects.add(o.project_id));
  }
  const select = $("project");
  const have = new Set([...select.options].map((o) => o.value));
  [...projects].sort().filter((p) => !have.has(p)).forEach((p) => select.add(new Option(p, p)));
}

// What the selected project shows: its objects, and the networks every project may use.
function visible(kind) {
  const list = state.objects[kind] || [];
  if (!state.project || kind === "chassis") return list;
  return list.filter((o) => o.project_id === state.project ||
    (kind === "network" && (o["router:external"] || o.shared)));
}

function label(kind, o) {
  if (kind === "subnet") return `${o.name || "subnet"} ${o.cidr}`;
  if (kind === "port") return o.name || (o.fixed_ips || []).map((f) => f.ip_address).join(" ") || o.id.slice(0, 8);
  if (kind === "floatingip") return o.floating_ip_address;
  if (kind === "loadbalancer") return `${o.name || "lb"} ${o.vip_address || ""}`;
  return o.name || o.id.slice(0, 8);
}

function isVm(port) {
  const owner = port.device_owner || "";
  return !owner.startsWith("network:") && owner !== "Octavia";
}

// ---- the graph and the list ----

function elements() {
  const nodes = [], edges = [];
  const node = (kind, o, classes) => nodes.push({data: {id: o.id, label: label(kind, o), kind}, classes: classes || kind});
  const edge = (a, b, classes) => edges.push({data: {id: `${a}>${b}`, source: a, target: b}, classes: classes || ""});
  const ids = new Set();
  visible("network").forEach((n) => { node("network", n, n["router:external"] ? "network external" : "network"); ids.add(n.id); });
  visible("subnet").forEach((s) => { if (ids.has(s.network_id)) { node("subnet", s); edge(s.id, s.network_id); } });
  visible("router").forEach((r) => {
    node("router", r);
    const gw = r.external_gateway_info && r.external_gateway_info.network_id;
    if (gw && ids.has(gw)) edge(r.id, gw, "gateway");
  });
  const routers = new Set(visible("router").map((r) => r.id));
  const chassis = new Set((state.objects.chassis || []).map((c) => c.name));
  if (state.admin) (state.objects.chassis || []).forEach((c) => nodes.push({data: {id: `chassis:${c.name}`, label: c.name, kind: "chassis"}, classes: "chassis"}));
  visible("port").forEach((p) => {
    if (p.device_owner === "network:router_interface" && routers.has(p.device_id) && ids.has(p.network_id)) {
      edge(p.device_id, p.network_id, "interface");
    } else if (isVm(p) && ids.has(p.network_id)) {
      node("port", p);
      edge(p.id, p.network_id);
      if (chassis.has(p["binding:host_id"])) edge(p.id, `chassis:${p["binding:host_id"]}`, "bound");
    }
  });
  const ports = new Set(nodes.map((n) => n.data.id));
  visible("floatingip").forEach((f) => {
    node("floatingip", f);
    if (f.port_id && ports.has(f.port_id)) edge(f.id, f.port_id, "nat");
    if (ids.has(f.floating_network_id)) edge(f.id, f.floating_network_id);
  });
  visible("loadbalancer").forEach((lb) => {
    node("loadbalancer", lb);
    if (ids.has(lb.vip_network_id)) edge(lb.id, lb.vip_network_id);
  });
  return nodes.concat(edges);
}

function render() {
  const els = elements();
  const shape = els.map((e) => e.data.id).sort().join(",");
  if (!state.cy) {
    state.cy = cytoscape({container: $("graph"), elements: els, style: GRAPH_STYLE, wheelSensitivity: 0.3});
    state.cy.on("tap", "node", (ev) => select(ev.target.data("kind"), ev.target.id()));
    layout();
  } else if (shape !== state.shape) {
    state.cy.elements().remove();
    state.cy.add(els);
    layout();
  } else {
    els.forEach((e) => state.cy.getElementById(e.data.id).data("label", e.data.label));
  }
  state.shape = shape;
  renderList();
  renderChoices();
  renderDetails();
}

function layout() {
  const many = state.cy.nodes().length > 150;
  state.cy.layout(many ? {name: "concentric", concentric: (n) => ({network: 3, router: 4}[n.data("kind")] || 1),
    levelWidth: () => 1, animate: false} : {name: "cose", animate: false, randomize: false}).run();
}

const GRAPH_STYLE = [
  {selector: "node", style: {label: "data(label)", "font-size": 9, "text-valign": "bottom", width: 18, height: 18, "background-color": "#7a8ca3"}},
  {selector: ".network", style: {shape: "round-rectangle", width: "label", padding: "6px", height: 16, "background-color": "#4d88c4", "text-valign": "center", color: "#fff"}},
  {selector: ".external", style: {"background-color": "#6b4dc4"}},
  {selector: ".subnet", style: {shape: "round-rectangle", width: 40, height: 10, "background-color": "#9cc0e6"}},
  {selector: ".router", style: {shape: "diamond", width: 26, height: 26, "background-color": "#d98c1f"}},
  {selector: ".port", style: {"background-color": "#3a9d5d"}},
  {selector: ".floatingip", style: {shape: "star", "background-color": "#c4304d"}},
  {selector: ".loadbalancer", style: {shape: "hexagon", width: 24, height: 24, "background-color": "#b04dc4"}},
  {selector: ".chassis", style: {shape: "rectangle", width: 30, height: 30, "background-color": "#555"}},
  {selector: "edge", style: {width: 1.5, "line-color": "#bbb", "curve-style": "bezier"}},
  {selector: ".gateway", style: {"line-color": "#6b4dc4", "line-style": "dashed"}},
  {selector: ".bound", style: {"line-color": "#ddd", "line-style": "dotted"}},
  {selector: ".nat", style: {"line-color": "#c4304d", "line-style": "dashed"}},
  {selector: ":selected", style: {"border-width": 3, "border-color": "#222"}},
];

function renderList() {
  const list = $("object-list");
  list.replaceChildren();
  for (const kind of Object.keys(KINDS)) {
    for (const o of visible(kind)) {
      if (kind === "port" && !isVm(o)) continue;
      const li = document.createElement("li");
      const id = kind === "chassis" ? `chassis:${o.name}` : o.id;
      li.dataset.id = id;
      li.dataset.kind = kind;
      li.textContent = `${kind} ${label(kind, o)}`;
      if (state.selected && state.selected.id === id) li.classList.add("selected");
      li.addEventListener("click", () => select(kind, id));
      list.append(li);
    }
  }
}

// The create forms' choices: networks, external networks, routers, subnets, VM ports.
function renderChoices() {
  const choices = {
    network: visible("network").filter((n) => !n["router:external"]),
    external: (state.objects.network || []).filter((n) => n["router:external"]),
    router: visible("router"), subnet: visible("subnet"), port: visible("port").filter(isVm),
  };
  document.querySelectorAll("select[data-choices]").forEach((select) => {
    const kind = select.dataset.choices;
    const wanted = (select.dataset.none ? [["", select.dataset.none]] : [])
      .concat(choices[kind].map((o) => [o.id, label(kind === "external" ? "network" : kind, o)]));
    const current = [...select.options].map((o) => o.value + "=" + o.text).join("|");
    if (current === wanted.map(([v, t]) => v + "=" + t).join("|")) return;
    const value = select.value;
    select.replaceChildren(...wanted.map(([v, t]) => new Option(t, v)));
    if (wanted.some(([v]) => v === value)) select.value = value;
  });
}

// ---- one object: attributes, live state, actions ----

function find(kind, id) {
  if (kind === "chassis") return (state.objects.chassis || []).find((c) => `chassis:${c.name}` === id);
  return (state.objects[kind] || []).find((o) => o.id === id);
}

function select(kind, id) {
  state.selected = {kind, id};
  $("trace").textContent = "";
  if (state.cy) {
    state.cy.elements().unselect();
    state.cy.getElementById(id).select();
  }
  renderList();
  renderDetails();
}

function rows(table, entries) {
  table.replaceChildren(...entries.map(([k, v]) => {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    const td = document.createElement("td");
    th.textContent = k;
    td.textContent = typeof v === "string" ? v : JSON.stringify(v);
    td.dataset.field = k;
    tr.append(th, td);
    return tr;
  }));
}

function renderDetails() {
  const sel = state.selected;
  const o = sel && find(sel.kind, sel.id);
  $("delete").hidden = !(o && DELETABLE.has(sel.kind));
  $("trace-form").hidden = !(o && sel.kind === "port");
  if (!o) {
    $("details-title").textContent = sel ? "The object is gone" : "Select an object";
    rows($("attributes"), []);
    $("interfaces").replaceChildren();
    renderLive();
    return;
  }
  $("details-title").textContent = `${sel.kind} ${label(sel.kind, o)}`;
  rows($("attributes"), Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
  renderInterfaces(sel.kind, o);
  renderLive();
}

function renderInterfaces(kind, router) {
  const box = $("interfaces");
  box.replaceChildren();
  if (kind !== "router") return;
  for (const p of (state.objects.port || []).filter((p) => p.device_id === router.id && p.device_owner === "network:router_interface")) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = `remove interface ${(p.fixed_ips || []).map((f) => f.ip_address).join(" ")}`;
    button.addEventListener("click", () => attempt(async () => {
      await api("PUT", `/routers/${router.id}/remove_router_interface`, {port_id: p.id});
      await refresh();
    }));
    box.append(button);
  }
}

function renderLive() {
  const sel = state.selected;
  const o = sel && find(sel.kind, sel.id);
  let entries = [];
  if (o && sel.kind === "port") {
    const c = state.counters.ports[o.id];
    entries = [["status", o.status], ["chassis", (c && c.chassis) || o["binding:host_id"] || "-"]];
    entries = entries.concat(PORT_COUNTERS.map((k) => [k, c ? String(c[k]) : "-"]));
  } else if (o && sel.kind === "floatingip") {
    const c = state.counters.floatingips[o.id];
    entries = [["status", o.status || "-"], ["chassis", (c && c.chassis) || "-"]]
      .concat(["rx_packets", "rx_bytes", "tx_packets", "tx_bytes"].map((k) => [k, c ? String(c[k]) : "-"]));
  } else if (o && sel.kind === "chassis") {
    entries = ["connected", "datapath_id", "flow_mods", "group_mods", "packet_ins", "errors"].map((k) => [k, o[k]]);
  } else if (o && sel.kind === "loadbalancer") {
    entries = [["provisioning_status", o.provisioning_status], ["operating_status", o.operating_status]];
  }
  $("live-title").hidden = entries.length === 0;
  rows($("live"), entries);
}

function renderMetering() {
  const projects = state.counters.projects.map((p) => [p.project_id, `in ${p.bytes_in} B (${p.packets_in} packets), out ${p.bytes_out} B (${p.packets_out} packets)`]);
  rows($("projects"), projects.length ? projects : [["projects", "no counters yet"]]);
  rows($("floating"), Object.values(state.counters.floatingips).map((f) =>
    [`floating IP ${f.floating_ip_address}`, `in ${f.rx_bytes} B, out ${f.tx_bytes} B`]));
}

// ---- changes ----

function owned(body) {
  return state.admin && state.project ? {...body, project_id: state.project} : body;
}

function form(id, submit) {
  $(id).addEventListener("submit", (ev) => {
    ev.preventDefault();
    const values = Object.fromEntries(new FormData(ev.target).entries());
    attempt(async () => {
      await submit(values);
      ev.target.reset();
      await refresh();
    });
  });
}

function wire() {
  $("login-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    attempt(() => login($("token").value.trim()));
  });
  $("logout").addEventListener("click", logout);
  $("project").addEventListener("change", (ev) => {
    state.project = ev.target.value;
    state.selected = null;
    render();
    attempt(refreshCounters);
  });
  $("delete").addEventListener("click", () => {
    const sel = state.selected;
    attempt(async () => {
      await api("DELETE", `/${KINDS[sel.kind][0]}/${sel.id}`);
      state.selected = null;
      await refresh();
    });
  });
  $("trace-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const flow = new FormData(ev.target).get("flow");
    attempt(async () => {
      const query = `port_id=${encodeURIComponent(state.selected.id)}&flow=${encodeURIComponent(flow)}`;
      $("trace").textContent = (await api("GET", `/trace?${query}`)).trace.text;
    });
  });
  form("create-network", (v) => api("POST", "/networks", {network: owned({name: v.name})}));
  form("create-subnet", (v) => api("POST", "/subnets", {subnet: owned({network_id: v.network_id, cidr: v.cidr, ip_version: 4, name: v.name})}));
  form("create-router", (v) => api("POST", "/routers", {router: owned(v.network_id
    ? {name: v.name, external_gateway_info: {network_id: v.network_id}} : {name: v.name})}));
  form("add-interface", (v) => api("PUT", `/routers/${v.router_id}/add_router_interface`, {subnet_id: v.subnet_id}));
  form("create-floatingip", (v) => api("POST", "/floatingips", {floatingip: owned(v.port_id
    ? {floating_network_id: v.floating_network_id, port_id: v.port_id} : {floating_network_id: v.floating_network_id})}));
}

wire();
const saved = sessionStorage.getItem("nvapps-token");
if (saved) attempt(() => login(saved));
