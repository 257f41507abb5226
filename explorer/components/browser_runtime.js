// What every component that decodes in the browser shares; browser_graph.py puts it before each component's own
// script. onnxruntime-web (vendored, served at /app/static/) runs the model's ONNX graphs; nothing else is loaded.
const STATIC = "/app/static/onnxruntime-web/";
// One cache per page: the runtime, the graphs and their sessions outlive a component's re-renders and are shared by
// the components of a page. A benchmark may create it first with `measure: true`: each input event's time to the
// painted frame then lands in `latencies`.
const cache = (window.__vaeExplorer = window.__vaeExplorer || {});
cache.sessions = cache.sessions || {};
cache.graphs = cache.graphs || {}; // graph id -> {bytes, arrived: Promise<Uint8Array>}
cache.latencies = cache.latencies || []; // input event -> canvas painted (ms)
cache.frameLatencies = cache.frameLatencies || []; // input event -> the next animation frame after the paint (ms)
cache.marks = cache.marks || {}; // when (performance.now()) the runtime, the first graph's session and frame were ready
const GRAPH_WAIT_MS = 20000; // how long a component waits for a graph another component of the page brings

// The runtime's WebAssembly, from its gzip-compressed copy (3.7 MB instead of 14): Streamlit sends that file as it
// is, where it would compress the plain one anew for every page. null where the browser cannot unpack it; the runtime
// then fetches the plain file itself.
// (A benchmark sets cache.plainWasm to time the plain file against it.)
async function wasmBinary(base) {
  if (cache.plainWasm || typeof DecompressionStream === "undefined") return null;
  try {
    const response = await fetch(base + "ort-wasm-simd-threaded.wasm.gz");
    if (!response.ok) return null;
    const binary = await new Response(response.body.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer();
    cache.marks.wasm ??= performance.now();
    return binary;
  } catch {
    return null;
  }
}

function runtime() {
  if (!cache.ort) {
    const base = window.location.origin + STATIC; // a component's script is a blob module: bare paths do not resolve
    cache.marks.componentStart ??= performance.now();
    cache.ort = Promise.all([import(base + "ort.wasm.min.mjs"), wasmBinary(base)]).then(([ort, binary]) => {
      ort.env.wasm.numThreads = 1; // one thread needs no cross-origin isolation headers
      ort.env.wasm.wasmPaths = base;
      if (binary) ort.env.wasm.wasmBinary = binary;
      cache.marks.runtime ??= performance.now();
      return ort;
    });
  }
  return cache.ort;
}

function graphEntry(id) {
  if (!cache.graphs[id]) {
    const entry = {};
    entry.arrived = new Promise((resolve, reject) => {
      entry.resolve = resolve;
      entry.timer = setTimeout(() => reject(new Error("the model's graph did not reach this page; reload it")),
        GRAPH_WAIT_MS);
    });
    cache.graphs[id] = entry;
  }
  return cache.graphs[id];
}

// A session for graph {id, bytes}: `bytes` (base64) comes once per server session; a component that gets only the
// id waits for the one that brought it. The promise is kept at once, so components mounting together share it.
function session(graph) {
  const entry = graphEntry(graph.id);
  if (graph.bytes && !entry.bytes) {
    entry.bytes = Uint8Array.from(atob(graph.bytes), (c) => c.charCodeAt(0));
    clearTimeout(entry.timer);
    entry.resolve(entry.bytes);
  }
  if (!cache.sessions[graph.id]) {
    runtime(); // fetch and compile the runtime while the graph is on its way
    cache.sessions[graph.id] = Promise.all([runtime(), entry.arrived]).then(async ([ort, bytes]) => {
      const s = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
      cache.marks.session ??= performance.now();
      return { ort, s };
    });
  }
  return cache.sessions[graph.id];
}

// Decode n codes (a Float32Array of n * d numbers): the images, n * C * H * W numbers in [0, 1].
async function decodeCodes(decoder, codes, n, label) {
  const { ort, s } = await decoder;
  const feeds = { z: new ort.Tensor("float32", codes, [n, codes.length / n]) };
  if (label !== null && label !== undefined) {
    feeds.y = new ort.Tensor("int64", BigInt64Array.from({ length: n }, () => BigInt(label)), [n]);
  }
  return (await s.run(feeds)).image.data;
}

// Encode one image (C * H * W numbers in [0, 1]): {mean, logvar}, Float32Arrays of the code's length.
async function encodeImage(encoder, pixels, shape, label) {
  const { ort, s } = await encoder;
  const feeds = { x: new ort.Tensor("float32", pixels, [1, ...shape]) };
  if (label !== null && label !== undefined) feeds.y = new ort.Tensor("int64", BigInt64Array.from([BigInt(label)]), [1]);
  const out = await s.run(feeds);
  return { mean: out.mean.data, logvar: out.logvar.data };
}

// The index-th image of a decoded batch as ImageData (grey images are drawn in grey).
function imageData(pixels, shape, index = 0) {
  const [c, h, w] = shape;
  const image = new ImageData(w, h);
  const start = index * c * h * w;
  for (let p = 0; p < h * w; p++) {
    for (let k = 0; k < 3; k++) image.data[4 * p + k] = 255 * pixels[start + (c === 3 ? k : 0) * h * w + p];
    image.data[4 * p + 3] = 255;
  }
  return image;
}

// A canvas that shows one decoded picture: sized to the image, scaled up pixelated by CSS to `pixels`.
function pictureCanvas(canvas, shape, pixels) {
  canvas.width = shape[2];
  canvas.height = shape[1];
  canvas.style.width = canvas.style.height = `${pixels}px`;
  return (decoded, index = 0) => {
    canvas.getContext("2d").putImageData(imageData(decoded, shape, index), 0, 0);
    canvas.dataset.frames = String(Number(canvas.dataset.frames || 0) + 1);
    cache.marks.firstFrame ??= performance.now();
  };
}

// `work()` about once per animation frame, one run at a time: calls made meanwhile are folded into the next run. A
// call that finds nothing running and no run begun within the last frame runs at once (Chromium hands pointer
// events over at the start of a frame: waiting for the next one would add a whole frame); others wait for the next
// animation frame. Returns `request(event)`; with cache.measure on, each event's time to the painted frame is recorded.
const FRAME_MS = 1000 / 60;
function everyFrame(work, fail) {
  let pending = false;
  let busy = false;
  let again = false;
  let started = -Infinity; // when the last run began
  let waiting = []; // events not yet shown (timed only when measuring)

  async function run() {
    pending = false;
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    started = performance.now();
    const shown = waiting;
    waiting = [];
    try {
      if ((await work()) !== false && cache.measure && shown.length) {
        const painted = performance.now();
        for (const t of shown) cache.latencies.push(painted - t);
        requestAnimationFrame(() => {
          const now = performance.now();
          for (const t of shown) cache.frameLatencies.push(now - t);
        });
      }
    } finally {
      busy = false;
    }
    if (again) {
      again = false;
      request();
    }
  }

  function request(event) {
    if (event && cache.measure) waiting.push(event.timeStamp);
    if (pending) return;
    pending = true;
    if (!busy && performance.now() - started >= FRAME_MS) queueMicrotask(() => run().catch(fail));
    else requestAnimationFrame(() => run().catch(fail));
  }
  return request;
}

function errorText(error) {
  return String((error && error.message) || error);
}
