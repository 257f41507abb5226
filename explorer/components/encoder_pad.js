// The draw pad and the reparameterization trick, run in the page: a drawing (or the picture the server sent) goes
// through encoder.onnx to μ and log σ², the decoder draws μ back, and "Draw ε" decodes z = μ + σ·ε. The bars, the
// strip of draws and the diagram are drawn here; the plane component of the page hears of each change through
// window events ("vae-explorer:posterior", "vae-explorer:posterior-clear"). The server hears only a drawing's code
// when a stroke ends (setStateValue "drawing"), or that this browser cannot run the graphs ("failed").
//
// Streamlit calls this function again on the same elements at each rerun of the page: the elements and their
// listeners are made once per root, the pad's state lives in the page-wide cache under the component's key, and the
// listeners read the newest call's data from root.__ctx.
const MAX_EMPTY = 0.05; // a pad whose brightest ink is below this is empty
const LIT = 0.3; // ink above this counts as drawn when the mark's size is measured
const STAGE_MS = 150; // the diagram's stages light up this far apart
const PLAY_MS = 800; // Play draws one ε this often
const TINY = "That mark is tiny, smaller than anything the model learned from: it was encoded anyway, but its code "
  + "says little. Draw bigger.";

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const root = parentElement.querySelector(".pad");
  cache.pads = cache.pads || {};
  const pad = (cache.pads[data.key] = cache.pads[data.key] || newPad(data));
  root.__ctx = { data, setStateValue, pad };
  root.__dead = false;
  if (!root.__built) build(root);
  update(root);
  return () => {
    root.__dead = true;
    stopPlay(root);
  };
}

function newPad(data) {
  const [, h, w] = data.shape;
  return {
    ink: new Float32Array(h * w), // the drawing at the model's size: 0 ground .. 1 stroke
    inkVersion: 0,
    post: null, // {mean, logvar}: Float32Arrays
    sig: null, // what the posterior was encoded from (label and picture)
    input: null, // the pixels encoded (C * H * W)
    recon: null, // the reconstruction's pixels
    draws: [], // {z, eps, image, n}, oldest first
    total: 0, // draws made since the page loaded
    encodes: 0, // encodes shown, live ones (while a stroke is drawn) among them
    settled: 0, // encodes shown that were not live: a stroke let go, a button, another picture
    seq: 0, // encodes started
    shown: 0, // the newest encode shown
    rng: data.seed | 0, // mulberry32's state
    spare: null, // Box–Muller's second number
    timer: null,
    message: "",
    warn: false,
  };
}

// --- random numbers: mulberry32, and Box–Muller for N(0, 1) ------------------------------------------------------
function uniform(pad) {
  let t = (pad.rng = (pad.rng + 0x6d2b79f5) | 0);
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function normal(pad) {
  if (pad.spare !== null) {
    const value = pad.spare;
    pad.spare = null;
    return value;
  }
  let u = 0;
  while (u === 0) u = uniform(pad);
  const v = uniform(pad);
  const r = Math.sqrt(-2 * Math.log(u));
  pad.spare = r * Math.sin(2 * Math.PI * v);
  return r * Math.cos(2 * Math.PI * v);
}

// --- the elements, made once per root -----------------------------------------------------------------------------
function build(root) {
  const { data } = root.__ctx;
  const [, h, w] = data.shape;
  const q = (selector) => root.querySelector(selector);
  const small = Math.round((data.padPixels * 2) / 3);
  const els = {
    board: q(".board"),
    input: q(".input"),
    recon: q(".recon"),
    message: q(".message"),
    bars: q(".bars"),
    numbers: q(".numbers"),
    strip: q(".strip"),
    status: q(".status"),
    play: q(".play"),
    drawEps: q(".draw-eps"),
    inputCaption: q(".input-caption"),
  };
  els.board.width = w;
  els.board.height = h;
  els.board.style.width = `${data.padPixels}px`;
  els.board.style.height = `${Math.round((data.padPixels * h) / w)}px`;
  els.paintInput = pictureCanvas(els.input, data.shape, small);
  els.paintRecon = pictureCanvas(els.recon, data.shape, small);
  q(".diagram-box").innerHTML = data.diagram; // the server's own markup (encoder_pad.diagram_svg), no user text
  root.dataset.kl = String(data.hasKl);
  q(".no-kl").textContent = data.hasKl ? "" : data.noKl;
  root.style.setProperty("--prior", data.colours.prior);
  root.style.setProperty("--draw", data.colours.draw);
  root.__els = els;
  root.__built = true;

  // drawing: a soft round brush at the model's size, a stroke encoded when the button is let go
  let stroke = null;
  const radius = Math.max(0.7, w / 22);
  const live = everyFrame(async () => {
    if (!stroke || root.dataset.state !== "ready") return false;
    return encode(root, { live: true });
  }, (error) => fail(root, error));
  const at = (event) => {
    const box = els.board.getBoundingClientRect();
    return [((event.clientX - box.left) / box.width) * w - 0.5, ((event.clientY - box.top) / box.height) * h - 0.5];
  };
  els.board.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    event.preventDefault();
    els.board.setPointerCapture(event.pointerId);
    stroke = at(event);
    root.__stroking = true;
    stamp(root.__ctx.pad, stroke, radius, w, h);
    paintBoard(root);
    live(event);
  });
  els.board.addEventListener("pointermove", (event) => {
    if (!stroke) return;
    const next = at(event);
    const steps = Math.max(1, Math.ceil(Math.hypot(next[0] - stroke[0], next[1] - stroke[1]) / 0.25));
    for (let i = 1; i <= steps; i++) {
      const t = i / steps;
      const point = [stroke[0] + t * (next[0] - stroke[0]), stroke[1] + t * (next[1] - stroke[1])];
      stamp(root.__ctx.pad, point, radius, w, h);
    }
    stroke = next;
    paintBoard(root);
    live(event);
  });
  const end = () => {
    if (!stroke) return;
    stroke = null;
    root.__stroking = false;
    encode(root, { send: true }).catch((error) => fail(root, error));
  };
  els.board.addEventListener("pointerup", end);
  els.board.addEventListener("pointercancel", end);
  q(".encode").addEventListener("click", () => encode(root, { send: true }).catch((error) => fail(root, error)));
  q(".clear").addEventListener("click", () => clear(root));
  els.drawEps.addEventListener("click", () => drawEps(root).catch((error) => fail(root, error)));
  els.play.addEventListener("click", () => (root.__ctx.pad.timer ? stopPlay(root) : play(root)));
}

function stamp(pad, [x, y], radius, w, h) {
  const reach = Math.ceil(3 * radius);
  const cx = Math.round(x);
  const cy = Math.round(y);
  for (let py = Math.max(0, cy - reach); py <= Math.min(h - 1, cy + reach); py++) {
    for (let px = Math.max(0, cx - reach); px <= Math.min(w - 1, cx + reach); px++) {
      const d2 = (px - x) ** 2 + (py - y) ** 2;
      const k = Math.min(1, 1.4 * Math.exp(-d2 / (2 * radius * radius)));
      if (k > pad.ink[py * w + px]) pad.ink[py * w + px] = k;
    }
  }
  pad.inkVersion += 1;
}

// --- each call: the newest data ------------------------------------------------------------------------------------
function update(root) {
  const ctx = root.__ctx;
  const { data } = ctx;
  root.dataset.mode = data.mode;
  root.__els.inputCaption.textContent = data.mode === "draw" ? "centred, as the encoder sees it"
    : `${data.source}, as the encoder sees it`;
  ctx.encoder = session(data.encoder);
  ctx.decoder = session(data.decoder);
  paintBoard(root);
  repaint(root);
  if (root.dataset.state !== "ready") status(root, "Loading the model into this browser…");
  Promise.all([ctx.encoder, ctx.decoder]).then(() => {
    if (root.__ctx !== ctx || root.__dead) return;
    root.dataset.state = "ready";
    status(root, data.mode === "draw"
      ? "The model runs in this browser: each stroke is encoded when you let go."
      : "Encoded in this browser.");
    return settle(root);
  }).catch((error) => fail(root, error));
}

// After a call: encode what changed (another picture or class), else show what is kept and tell the plane.
async function settle(root) {
  const { data, pad } = root.__ctx;
  const sig = signature(root);
  if (sig === null) {
    forget(pad);
    repaint(root);
    if (data.mode === "draw") {
      if (!pad.warn) say(root, "Draw with the mouse: light strokes on a dark ground, like the training pictures.");
    } else say(root, "Upload a picture above to encode it.");
    publish(root);
    return;
  }
  // the same picture and class as shown; or a stroke under way, which is encoded when it ends
  if ((pad.post && pad.sig === sig) || root.__stroking) {
    publish(root);
    return;
  }
  await encode(root, { send: data.mode === "draw" });
}

function signature(root) {
  const { data, pad } = root.__ctx;
  if (data.mode === "draw") return inkMax(pad.ink) <= MAX_EMPTY ? null : `${data.label}:draw:${pad.inkVersion}`;
  if (!data.pixels) return null;
  let hash = 2166136261;
  for (const v of data.pixels) hash = Math.imul(hash ^ v, 16777619);
  return `${data.label}:${data.pixels.length}:${hash >>> 0}`;
}

function inkMax(ink) {
  let most = 0;
  for (const v of ink) if (v > most) most = v;
  return most;
}

// --- encoding -------------------------------------------------------------------------------------------------------
// The drawing, centred (its centre of mass moved to the middle, by whole pixels) when the data is, as C*H*W pixels
// in the data's convention; null when the pad is empty. `tiny`: the mark is smaller than any training picture's.
function drawnPixels(root) {
  const { data, pad } = root.__ctx;
  const [c, h, w] = data.shape;
  if (inkMax(pad.ink) <= MAX_EMPTY) return null;
  let ink = pad.ink;
  if (data.centre) {
    let total = 0;
    let sy = 0;
    let sx = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = ink[y * w + x];
        total += v;
        sy += v * y;
        sx += v * x;
      }
    }
    const dy = Math.round((h - 1) / 2 - sy / total);
    const dx = Math.round((w - 1) / 2 - sx / total);
    const moved = new Float32Array(h * w);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const ty = y + dy;
        const tx = x + dx;
        if (ty >= 0 && ty < h && tx >= 0 && tx < w) moved[ty * w + tx] = ink[y * w + x];
      }
    }
    ink = moved;
  }
  let top = h;
  let bottom = -1;
  let left = w;
  let right = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (ink[y * w + x] > LIT) {
        top = Math.min(top, y);
        bottom = Math.max(bottom, y);
        left = Math.min(left, x);
        right = Math.max(right, x);
      }
    }
  }
  const extent = bottom < 0 ? 0 : Math.max(bottom - top + 1, right - left + 1);
  const tiny = extent <= Math.max(3, Math.round(Math.max(h, w) / 5));
  const pixels = new Float32Array(c * h * w);
  for (let k = 0; k < c; k++) {
    for (let p = 0; p < h * w; p++) pixels[k * h * w + p] = data.dark ? ink[p] : 1 - ink[p];
  }
  return { pixels, tiny };
}

async function encode(root, { live = false, send = false } = {}) {
  const ctx = root.__ctx;
  const { data, pad } = ctx;
  let pixels;
  let note = "";
  if (data.mode === "draw") {
    const drawn = drawnPixels(root);
    if (!drawn) {
      if (!live) empty(root);
      return false;
    }
    pixels = drawn.pixels;
    if (drawn.tiny) note = TINY;
  } else {
    if (!data.pixels) return false;
    pixels = Float32Array.from(data.pixels, (v) => v / 255);
  }
  const sig = signature(root);
  const seq = ++pad.seq;
  // the flow, lit stage by stage: the decoder draws μ (z = μ, ε = 0) as the reconstruction
  if (!live) light(root, ["input", "encoder", "musigma", ...(data.hasKl ? ["z"] : []), "decoder", "output"]);
  const { mean, logvar } = await encodeImage(ctx.encoder, pixels, data.shape, data.label);
  const recon = await decodeCodes(ctx.decoder, Float32Array.from(mean), 1, data.label);
  if (seq < pad.shown || root.__dead) return false;
  pad.shown = seq;
  pad.post = { mean: Float32Array.from(mean), logvar: Float32Array.from(logvar) };
  pad.sig = sig;
  pad.input = pixels;
  pad.recon = recon;
  pad.draws = [];
  pad.encodes += 1;
  if (!live) pad.settled += 1;
  say(root, note, Boolean(note));
  repaint(root);
  publish(root);
  if (send) {
    ctx.setStateValue("drawing", { code: Array.from(pad.post.mean), logvar: Array.from(pad.post.logvar) });
  }
  return true;
}

// An encode asked of an empty pad: say so, and forget the last posterior.
function empty(root) {
  const { pad } = root.__ctx;
  stopPlay(root);
  forget(pad);
  say(root, root.__ctx.data.empty, true);
  repaint(root);
  publish(root);
}

function forget(pad) {
  pad.post = null;
  pad.sig = null;
  pad.input = null;
  pad.recon = null;
  pad.draws = [];
}

function clear(root) {
  const { pad, setStateValue } = root.__ctx;
  pad.ink.fill(0);
  pad.inkVersion += 1;
  empty(root);
  paintBoard(root);
  setStateValue("drawing", { cleared: true });
}

// --- z = μ + σ·ε ---------------------------------------------------------------------------------------------------
async function drawEps(root) {
  const ctx = root.__ctx;
  const { data, pad } = ctx;
  if (!data.hasKl || root.dataset.state !== "ready") return;
  if (!pad.post) {
    if (data.mode === "draw") say(root, data.empty, true);
    stopPlay(root);
    return;
  }
  const post = pad.post;
  const d = post.mean.length;
  const eps = new Float32Array(d);
  const z = new Float32Array(d);
  for (let i = 0; i < d; i++) {
    eps[i] = normal(pad);
    z[i] = post.mean[i] + Math.exp(0.5 * post.logvar[i]) * eps[i];
  }
  light(root, ["eps", "z", "decoder", "output"]);
  const image = await decodeCodes(ctx.decoder, z.slice(), 1, data.label);
  if (pad.post !== post || root.__dead) return; // a new picture was encoded meanwhile
  pad.total += 1;
  pad.draws.push({ z, eps, image, n: pad.total });
  if (pad.draws.length > data.maxDraws) pad.draws.shift();
  repaint(root);
  publish(root);
}

function play(root) {
  const { pad, data } = root.__ctx;
  if (!pad.post) {
    if (data.mode === "draw") say(root, data.empty, true);
    return;
  }
  pad.timer = setInterval(() => drawEps(root).catch((error) => fail(root, error)), PLAY_MS);
  drawEps(root).catch((error) => fail(root, error));
  repaint(root);
}

function stopPlay(root) {
  const { pad } = root.__ctx;
  if (pad.timer) clearInterval(pad.timer);
  pad.timer = null;
  if (root.__els) repaint(root);
}

// --- what the page shows -------------------------------------------------------------------------------------------
function paintBoard(root) {
  const { data, pad } = root.__ctx;
  const [, h, w] = data.shape;
  const image = new ImageData(w, h);
  for (let p = 0; p < h * w; p++) {
    const v = 255 * (data.dark ? pad.ink[p] : 1 - pad.ink[p]);
    image.data[4 * p] = image.data[4 * p + 1] = image.data[4 * p + 2] = v;
    image.data[4 * p + 3] = 255;
  }
  root.__els.board.getContext("2d").putImageData(image, 0, 0);
}

function blank(canvas, dark) {
  const g = canvas.getContext("2d");
  g.fillStyle = dark ? "#000" : "#fff";
  g.fillRect(0, 0, canvas.width, canvas.height);
}

function repaint(root) {
  const { data, pad } = root.__ctx;
  const els = root.__els;
  if (pad.input) els.paintInput(pad.input);
  else blank(els.input, data.dark);
  if (pad.recon) els.paintRecon(pad.recon);
  else blank(els.recon, data.dark);
  root.dataset.code = pad.post ? Array.from(pad.post.mean, (v) => v.toFixed(4)).join(",") : "";
  root.dataset.encodes = String(pad.encodes);
  root.dataset.settled = String(pad.settled);
  root.dataset.draws = String(pad.total);
  els.message.textContent = pad.message;
  els.message.classList.toggle("warn", pad.warn);
  els.bars.innerHTML = pad.post ? barsSvg(data, pad) : "";
  els.drawEps.disabled = !pad.post;
  els.play.textContent = pad.timer ? "Stop" : "Play";
  els.play.setAttribute("aria-pressed", String(Boolean(pad.timer)));
  numbers(root);
  strip(root);
}

function say(root, text, warn = false) {
  const { pad } = root.__ctx;
  pad.message = text;
  pad.warn = warn;
  root.__els.message.textContent = text;
  root.__els.message.classList.toggle("warn", warn);
}

function status(root, text) {
  root.__els.status.textContent = text;
}

const signed = (v) => v.toFixed(2).replace("-", "−");

function numbers(root) {
  const { data, pad } = root.__ctx;
  const box = root.__els.numbers;
  const newest = pad.draws[pad.draws.length - 1];
  if (!pad.post || !newest) {
    box.textContent = pad.post && data.hasKl ? "Press “Draw ε” to pick one code z from the cloud and decode it." : "";
    return;
  }
  box.replaceChildren(...data.top.map((d) => {
    const line = document.createElement("div");
    const sigma = Math.exp(0.5 * pad.post.logvar[d]);
    line.textContent = `z${d} = μ ${signed(pad.post.mean[d])} + σ ${signed(sigma)} × ε ${signed(newest.eps[d])} = `
      + signed(newest.z[d]);
    return line;
  }));
}

function strip(root) {
  const { data, pad } = root.__ctx;
  const box = root.__els.strip;
  box.replaceChildren(...pad.draws.map((draw, i) => {
    const figure = document.createElement("figure");
    const canvas = document.createElement("canvas");
    canvas.dataset.testid = "pad-draw";
    if (i === pad.draws.length - 1) canvas.classList.add("newest");
    pictureCanvas(canvas, data.shape, data.drawPixels)(draw.image);
    const caption = document.createElement("figcaption");
    caption.textContent = `draw ${draw.n}`;
    figure.append(canvas, caption);
    return figure;
  }));
}

// The bars: per latent, μ as a dot, μ ± σ and μ ± 2σ as bars on one axis, the prior's ±1 band behind them, and the
// newest draw's z as a diamond. A value beyond the axis sits at its edge as an arrow, and its number is written at
// the right, marked ◂ or ▸: nothing is clipped silently.
function barsSvg(data, pad) {
  const A = data.axis;
  const [x0, x1, rowH, top] = [56, 500, 22, 26];
  const n = data.dims.length;
  const bottom = top + n * rowH;
  const f = (v) => v.toFixed(1);
  const x = (v) => f(x0 + ((Math.max(-A, Math.min(A, v)) + A) / (2 * A)) * (x1 - x0));
  const beyond = (v) => Math.abs(v) > A;
  const arrow = (v) => (v > 0 ? "▸ " : "◂ ");
  const bar = (cls, low, high, cy, half) => `<rect class="${cls}" x="${x(low)}" y="${f(cy - half)}" `
    + `width="${f(Number(x(high)) - Number(x(low)))}" height="${2 * half}"/>`;
  const shape = (cls, points, title) => `<path class="${cls}" d="M ${points.map(([px, py]) => `${f(px)} ${f(py)}`)
    .join(" L ")} z"><title>${title}</title></path>`;
  const edge = (cls, v, cy, title, out = 0) => { // an arrow at the axis' end (or `out` past it), pointing on
    const dir = v > 0 ? 1 : -1;
    const e = (v > 0 ? x1 : x0) + dir * out;
    return shape(cls, [[e + dir * 9, cy], [e - dir * 3, cy - 7], [e - dir * 3, cy + 7]], title);
  };
  const newest = pad.draws[pad.draws.length - 1];
  const parts = [`<text x="0" y="14">${data.hasKl
    ? `dot: μ · dark bar: μ ± σ · light bar: μ ± 2σ · grey: the prior's ±1${newest ? " · ◆ newest z" : ""}`
    : "dot: the code"}</text>`];
  if (data.hasKl) parts.push(bar("prior", -1, 1, (top + bottom) / 2, (bottom - top) / 2));
  const step = A <= 4 ? 1 : Math.ceil(A / 4);
  for (let t = -Math.floor(A / step) * step; t <= A + 1e-9; t += step) {
    parts.push(`<line class="tick" x1="${x(t)}" x2="${x(t)}" y1="${top}" y2="${bottom + 4}"`
      + ` stroke-dasharray="${t === 0 ? "" : "2 3"}"/>`);
    parts.push(`<text x="${x(t)}" y="${bottom + 18}" text-anchor="middle">${signed(t).replace(".00", "")}</text>`);
  }
  data.dims.forEach((d, i) => {
    const cy = top + i * rowH + rowH / 2;
    const m = pad.post.mean[d];
    const s = Math.exp(0.5 * pad.post.logvar[d]);
    const name = data.hasKl ? "μ" : "code";
    parts.push(`<text x="0" y="${f(cy + 4)}">z${d}</text>`);
    if (data.hasKl) parts.push(bar("two", m - 2 * s, m + 2 * s, cy, 6), bar("one", m - s, m + s, cy, 4));
    const title = `z${d}: ${name} = ${m.toFixed(2)}`;
    parts.push(beyond(m) ? edge("edge", m, cy, `${title}, beyond the axis`)
      : `<circle class="mean" cx="${x(m)}" cy="${f(cy)}" r="5"><title>${title}</title></circle>`);
    let text = (beyond(m) ? arrow(m) : "") + (data.hasKl ? `μ ${signed(m)}  σ ${signed(s)}` : signed(m));
    if (newest) {
      const z = newest.z[d];
      const drawn = `z${d} of the newest draw = ${z.toFixed(2)}`;
      if (beyond(z)) {
        parts.push(edge("draw", z, cy, `${drawn}, beyond the axis`, 13));
        text += `  z ${arrow(z)}${signed(z)}`;
      } else {
        const zx = Number(x(z));
        parts.push(shape("draw", [[zx, cy - 6], [zx + 5, cy], [zx, cy + 6], [zx - 5, cy]], drawn));
      }
    }
    const outside = beyond(m) || (newest && beyond(newest.z[d]));
    parts.push(`<text class="value${outside ? " outside" : ""}" x="${x1 + 32}" y="${f(cy + 4)}">${text}</text>`);
  });
  return `<svg viewBox="0 0 740 ${bottom + 26}" role="img" aria-label="Each latent's mean and spread">`
    + `${parts.join("")}</svg>`;
}

// --- the diagram and the plane --------------------------------------------------------------------------------------
function light(root, stages) {
  const svg = root.querySelector(".diagram-box svg");
  if (!svg) return;
  const token = (root.__light = (root.__light || 0) + 1);
  svg.querySelectorAll(".lit").forEach((g) => g.classList.remove("lit"));
  stages.forEach((stage, i) => {
    setTimeout(() => {
      if (root.__light !== token) return;
      const g = svg.querySelector(`[data-stage="${stage}"]`);
      if (!g) return;
      g.classList.add("lit");
      root.dataset.lit = stage;
      setTimeout(() => {
        if (root.__light === token) g.classList.remove("lit");
      }, 3 * STAGE_MS);
    }, i * STAGE_MS);
  });
}

// Tell the page's plane (and any later one, through cache.posterior) what to draw.
function publish(root) {
  const { data, pad } = root.__ctx;
  if (!pad.post) {
    cache.posterior = null;
    window.dispatchEvent(new CustomEvent("vae-explorer:posterior-clear", { detail: { model: data.model } }));
    return;
  }
  const detail = {
    model: data.model,
    mean: Array.from(pad.post.mean),
    logvar: Array.from(pad.post.logvar),
    draws: pad.draws.map((draw) => Array.from(draw.z)),
    latest: pad.draws.length - 1,
    source: data.source,
  };
  cache.posterior = detail;
  window.dispatchEvent(new CustomEvent("vae-explorer:posterior", { detail }));
}

function fail(root, error) {
  if (root.dataset.state === "failed") return;
  stopPlay(root);
  status(root, `This browser cannot run the model here (${errorText(error)}); the server encodes instead.`);
  root.dataset.state = "failed";
  root.__ctx.setStateValue("failed", errorText(error));
}
