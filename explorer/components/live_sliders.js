// Sliders that decode while they are dragged: onnxruntime-web (vendored, served at /app/static/) runs the model's
// decoder.onnx on every input event, at most once per animation frame, and paints a canvas. The server hears only
// the released code (setStateValue on "change"), for the URL and the other pages.
const STATIC = "/app/static/onnxruntime-web/";
// One cache per page: the runtime, the graphs and their sessions outlive a component's re-renders. A benchmark may
// create it first with `measure: true`: each input event's time to the painted frame then lands in `latencies`.
const cache = (window.__vaeExplorer = window.__vaeExplorer || {});
cache.sessions = cache.sessions || {};
cache.graphs = cache.graphs || {};
cache.latencies = cache.latencies || []; // input event -> canvas painted (ms)
cache.frameLatencies = cache.frameLatencies || []; // input event -> the next animation frame after the paint (ms)
cache.marks = cache.marks || {}; // when (performance.now()) the runtime, the first graph's session and frame were ready

async function runtime() {
  if (!cache.ort) {
    const base = window.location.origin + STATIC; // a component's script is a blob module: bare paths do not resolve
    cache.marks.componentStart ??= performance.now();
    cache.ort = import(base + "ort.wasm.min.mjs").then((ort) => {
      ort.env.wasm.numThreads = 1; // one thread needs no cross-origin isolation headers
      ort.env.wasm.wasmPaths = base;
      cache.marks.runtime ??= performance.now();
      return ort;
    });
  }
  return cache.ort;
}

async function session(data) {
  if (data.graph) cache.graphs[data.graph_id] = Uint8Array.from(atob(data.graph), (c) => c.charCodeAt(0));
  if (!cache.sessions[data.graph_id]) {
    const bytes = cache.graphs[data.graph_id];
    if (!bytes) throw new Error("the decoder graph was not sent to this page; reload it");
    // the promise is kept at once, so components mounting together share one session
    cache.sessions[data.graph_id] = runtime().then(async (ort) => {
      const s = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
      cache.marks.session ??= performance.now();
      return { ort, s };
    });
  }
  return cache.sessions[data.graph_id];
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const root = parentElement.querySelector(".live");
  const canvas = root.querySelector("canvas");
  const status = root.querySelector(".status");
  const list = root.querySelector(".sliders");
  const [c, h, w] = data.shape;
  canvas.width = w;
  canvas.height = h;
  canvas.style.width = canvas.style.height = `${data.pixels}px`;
  const z = Float32Array.from(data.z);
  let pending = false;
  let stopped = false;
  let ready = null;
  let waiting = []; // input events not yet shown (timed only when measuring)
  let busy = false;
  let again = false;

  list.replaceChildren(...data.dims.map((dim, i) => {
    const row = document.createElement("label");
    row.className = "row";
    const name = document.createElement("span");
    name.textContent = data.labels[i];
    const input = document.createElement("input");
    Object.assign(input, { type: "range", min: data.low[i], max: data.high[i], step: 0.01, value: z[dim] });
    input.dataset.dim = dim;
    input.setAttribute("aria-label", data.labels[i]);
    const value = document.createElement("output");
    value.textContent = z[dim].toFixed(2);
    input.addEventListener("input", (event) => {
      if (cache.measure) waiting.push(event.timeStamp);
      z[dim] = Number(input.value);
      value.textContent = z[dim].toFixed(2);
      draw();
    });
    input.addEventListener("change", () => setStateValue("z", Array.from(z)));
    row.append(name, input, value);
    return row;
  }));

  function paint(pixels) {
    const image = canvas.getContext("2d").createImageData(w, h);
    for (let p = 0; p < h * w; p++) {
      for (let k = 0; k < 3; k++) image.data[4 * p + k] = 255 * pixels[(c === 3 ? k : 0) * h * w + p];
      image.data[4 * p + 3] = 255;
    }
    canvas.getContext("2d").putImageData(image, 0, 0);
  }

  async function decode() {
    pending = false;
    if (busy) { // one run at a time: the moves made meanwhile are decoded when it ends
      again = true;
      return;
    }
    busy = true;
    const shown = waiting; // the input events this code includes
    waiting = [];
    try {
      const { ort, s } = await ready;
      const feeds = { z: new ort.Tensor("float32", z.slice(), [1, z.length]) };
      if (data.label !== null) feeds.y = new ort.Tensor("int64", BigInt64Array.from([BigInt(data.label)]), [1]);
      const out = await s.run(feeds);
      if (stopped) return;
      paint(out.image.data);
      canvas.dataset.frames = String(Number(canvas.dataset.frames || 0) + 1);
      const painted = performance.now();
      cache.marks.firstFrame ??= painted;
      if (cache.measure && shown.length) {
        for (const t of shown) cache.latencies.push(painted - t);
        requestAnimationFrame(() => { const now = performance.now(); for (const t of shown) cache.frameLatencies.push(now - t); });
      }
    } finally {
      busy = false;
    }
    if (again) {
      again = false;
      draw();
    }
  }

  function draw() {
    if (pending || !ready) return;
    pending = true;
    requestAnimationFrame(() => decode().catch(fail));
  }

  function fail(error) {
    status.textContent = `This browser cannot decode here (${error.message || error}); the server decodes instead.`;
    root.dataset.state = "failed";
    setStateValue("failed", String(error.message || error));
  }

  status.textContent = "Loading the decoder…";
  ready = session(data);
  ready.then(() => {
    status.textContent = "Decoded in this browser as you drag.";
    root.dataset.state = "ready";
    draw();
  }, fail);
  return () => { stopped = true; };
}
