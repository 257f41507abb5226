// The latent plane, decoded in the browser: the decoder draws a grid of tiles behind the test codes, the point under
// the mouse is decoded at every move (at most once per animation frame), and a click pins a point and sends its code
// to the server. A point (u, v) of the plane is the code origin + u * axis0 + v * axis1. Another component of the page
// (the encoder pad) sends a posterior with the window event "vae-explorer:posterior": its mean, its 1σ and 2σ
// ellipses and its draws z = μ + σ·ε are drawn on the plane.
export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const root = parentElement.querySelector(".plane");
  const map = root.querySelector("canvas.plane-map");
  const overlay = root.querySelector("canvas.plane-overlay");
  const status = root.querySelector(".status");
  const readout = root.querySelector(".readout");
  const legend = root.querySelector(".legend");
  const show = pictureCanvas(root.querySelector("canvas.plane-picture"), data.shape, data.pixels);
  const d = data.origin.length;
  const origin = Float32Array.from(data.origin);
  const axes = [Float32Array.from(data.axes[0]), Float32Array.from(data.axes[1])]; // the plane's two directions
  const [u0, u1, v0, v1] = data.extent;
  const ratio = window.devicePixelRatio || 1;
  const size = data.size; // CSS pixels of the square plane
  let stopped = false;
  let cursor = null; // [u, v] under the mouse
  let pin = data.pin; // [u, v] or null
  let posterior = null;

  for (const canvas of [map, overlay]) {
    if (canvas.width !== Math.round(size * ratio) || canvas.height !== Math.round(size * ratio)) {
      canvas.width = canvas.height = Math.round(size * ratio); // (this clears it: the base is drawn again below)
      delete canvas.__base;
    }
    canvas.style.width = canvas.style.height = `${size}px`;
  }
  root.style.setProperty("--plane-size", `${size}px`);

  // plane coordinates <-> canvas pixels (v grows upwards) <-> codes
  const toX = (u) => ((u - u0) / (u1 - u0)) * size * ratio;
  const toY = (v) => ((v1 - v) / (v1 - v0)) * size * ratio;
  function fromEvent(event) {
    const box = overlay.getBoundingClientRect();
    const u = u0 + ((event.clientX - box.left) / box.width) * (u1 - u0);
    const v = v1 - ((event.clientY - box.top) / box.height) * (v1 - v0);
    return [u, v];
  }
  function codeAt(u, v, into = new Float32Array(d), offset = 0) {
    for (let i = 0; i < d; i++) into[offset + i] = origin[i] + u * axes[0][i] + v * axes[1][i];
    return into;
  }
  function project(code) {
    let u = 0;
    let v = 0;
    for (let i = 0; i < d; i++) {
      u += (code[i] - origin[i]) * axes[0][i];
      v += (code[i] - origin[i]) * axes[1][i];
    }
    return [u, v];
  }

  function fail(error) {
    status.textContent = `This browser cannot decode here (${errorText(error)}); the server draws the plane instead.`;
    root.dataset.state = "failed";
    setStateValue("failed", errorText(error));
  }

  function dot(ctx, x, y, radius, fill, stroke) {
    ctx.beginPath();
    ctx.arc(x, y, radius, 0, 2 * Math.PI);
    ctx.fillStyle = fill;
    ctx.fill();
    if (stroke) {
      ctx.strokeStyle = stroke;
      ctx.stroke();
    }
  }

  // The base picture: tiles (decoded in one batch), empty cells shaded, the prior, the test codes.
  async function drawBase(decoder) {
    const ctx = map.getContext("2d");
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, map.width, map.height);
    const n = data.tiles;
    if (n > 0) {
      const [, h, w] = data.shape;
      const codes = new Float32Array(n * n * d);
      for (let row = 0; row < n; row++) {
        for (let col = 0; col < n; col++) {
          const u = u0 + ((col + 0.5) / n) * (u1 - u0);
          const v = v1 - ((row + 0.5) / n) * (v1 - v0);
          codeAt(u, v, codes, (row * n + col) * d);
        }
      }
      const decoded = await decodeCodes(decoder, codes, n * n, data.label);
      if (stopped) return;
      const sheet = new OffscreenCanvas(n * w, n * h);
      const sheetCtx = sheet.getContext("2d");
      for (let k = 0; k < n * n; k++) sheetCtx.putImageData(imageData(decoded, data.shape, k), (k % n) * w, Math.floor(k / n) * h);
      ctx.imageSmoothingEnabled = false;
      ctx.globalAlpha = data.tile_opacity;
      ctx.drawImage(sheet, 0, 0, map.width, map.height);
      ctx.globalAlpha = 1;
      if (data.mark_empty) { // cells no test code falls in: the holes between the data
        const counts = new Uint32Array(n * n);
        for (const [u, v] of data.points) {
          const col = Math.floor(((u - u0) / (u1 - u0)) * n);
          const row = Math.floor(((v1 - v) / (v1 - v0)) * n);
          if (col >= 0 && col < n && row >= 0 && row < n) counts[row * n + col]++;
        }
        ctx.fillStyle = "rgba(255, 255, 255, 0.6)";
        for (let k = 0; k < n * n; k++) {
          if (!counts[k]) ctx.fillRect(((k % n) * map.width) / n, (Math.floor(k / n) * map.height) / n, map.width / n, map.height / n);
        }
      }
      map.dataset.tiles = String(n * n);
    }
    ctx.lineWidth = ratio;
    if (data.prior_centre) { // N(0, I) seen on the plane: circles of radius 1 and 2 around where the origin lands
      const [cu, cv] = data.prior_centre;
      ctx.setLineDash([6 * ratio, 4 * ratio]);
      for (const [colour, width] of [["#ffffff", 4], [data.prior_colour, 2]]) { // a light halo, then the line
        ctx.strokeStyle = colour;
        ctx.lineWidth = width * ratio;
        for (const r of [1, 2]) {
          ctx.beginPath();
          ctx.ellipse(toX(cu), toY(cv), (r / (u1 - u0)) * map.width, (r / (v1 - v0)) * map.height, 0, 0, 2 * Math.PI);
          ctx.stroke();
        }
      }
      ctx.setLineDash([]);
      ctx.lineWidth = ratio;
    }
    for (const [u, v] of data.prior) dot(ctx, toX(u), toY(v), 1.8 * ratio, data.prior_colour, "#ffffff");
    for (const [u, v, k] of data.points) dot(ctx, toX(u), toY(v), 2.2 * ratio, data.colours[k], "rgba(0,0,0,0.35)");
    map.dataset.drawn = String(Number(map.dataset.drawn || 0) + 1); // how many times the base was drawn
  }

  function cross(ctx, x, y, r, colour, width) {
    ctx.strokeStyle = colour;
    ctx.lineWidth = width;
    ctx.beginPath();
    ctx.moveTo(x - r, y - r);
    ctx.lineTo(x + r, y + r);
    ctx.moveTo(x + r, y - r);
    ctx.lineTo(x - r, y + r);
    ctx.stroke();
  }

  // The posterior N(μ, diag σ²) seen on the plane: N(project(μ), Aᵀ diag(σ²) A), drawn as its 1σ and 2σ ellipses.
  function drawPosterior(ctx) {
    if (!posterior) {
      delete overlay.dataset.posterior;
      delete overlay.dataset.ellipse;
      return;
    }
    const mean = project(posterior.mean);
    const sigma2 = posterior.logvar.map((x) => Math.exp(x));
    let a = 0;
    let b = 0;
    let c = 0;
    for (let i = 0; i < d; i++) {
      a += axes[0][i] * axes[0][i] * sigma2[i];
      b += axes[0][i] * axes[1][i] * sigma2[i];
      c += axes[1][i] * axes[1][i] * sigma2[i];
    }
    const spread = Math.sqrt(((a - c) / 2) ** 2 + b * b);
    const big = (a + c) / 2 + spread;
    const small = Math.max((a + c) / 2 - spread, 0);
    const angle = Math.atan2(big - a, b || 1e-12); // direction of the larger eigenvector, in (u, v)
    ctx.strokeStyle = "#000000";
    for (const k of [1, 2]) {
      ctx.lineWidth = (k === 1 ? 2 : 1) * ratio;
      ctx.beginPath();
      for (let s = 0; s <= 64; s++) {
        const t = (s / 64) * 2 * Math.PI;
        const p = k * Math.sqrt(big) * Math.cos(t);
        const q = k * Math.sqrt(small) * Math.sin(t);
        const u = mean[0] + p * Math.cos(angle) - q * Math.sin(angle);
        const v = mean[1] + p * Math.sin(angle) + q * Math.cos(angle);
        if (s === 0) ctx.moveTo(toX(u), toY(v));
        else ctx.lineTo(toX(u), toY(v));
      }
      ctx.stroke();
    }
    dot(ctx, toX(mean[0]), toY(mean[1]), 4 * ratio, "#000000", "#ffffff");
    (posterior.draws || []).forEach((draw, i) => {
      const [u, v] = project(draw);
      const newest = i === posterior.latest;
      cross(ctx, toX(u), toY(v), (newest ? 6 : 3.5) * ratio, newest ? "#d00000" : "#000000", (newest ? 2.5 : 1.5) * ratio);
    });
    overlay.dataset.posterior = String((posterior.draws || []).length);
    // centre, the 1σ ellipse's half-axes and its angle, in plane units (read by the tests)
    overlay.dataset.ellipse = [...mean, Math.sqrt(big), Math.sqrt(small), angle].map((x) => x.toFixed(5)).join(",");
  }

  function drawOverlay() {
    const ctx = overlay.getContext("2d");
    ctx.clearRect(0, 0, overlay.width, overlay.height);
    drawPosterior(ctx);
    if (pin) {
      const [x, y] = [toX(pin[0]), toY(pin[1])];
      dot(ctx, x, y, 7 * ratio, "#ffffff", "#000000");
      dot(ctx, x, y, 3 * ratio, "#000000");
    }
    if (cursor) {
      ctx.strokeStyle = "rgba(0, 0, 0, 0.55)";
      ctx.lineWidth = ratio;
      const [x, y] = [toX(cursor[0]), toY(cursor[1])];
      ctx.beginPath();
      ctx.moveTo(x, 0);
      ctx.lineTo(x, overlay.height);
      ctx.moveTo(0, y);
      ctx.lineTo(overlay.width, y);
      ctx.stroke();
    }
  }

  legend.replaceChildren(...data.legend.map(([name, colour]) => {
    const item = document.createElement("span");
    const swatch = document.createElement("i");
    swatch.style.background = colour;
    item.append(swatch, name);
    return item;
  }));

  const decoder = session(data.decoder);
  const draw = everyFrame(async () => {
    const at = cursor || pin || [0, 0];
    const decoded = await decodeCodes(decoder, codeAt(at[0], at[1]), 1, data.label);
    if (stopped) return false;
    show(decoded);
    readout.textContent = `${cursor ? "under the mouse" : pin ? "pinned" : "the plane's centre"}: `
      + `u ${at[0].toFixed(2)}, v ${at[1].toFixed(2)}`;
    root.dataset.shown = `${at[0].toFixed(4)},${at[1].toFixed(4)}`;
  }, fail);

  const listening = new AbortController(); // this render's listeners; the next render brings its own
  const on = (target, type, handler) => target.addEventListener(type, handler, { signal: listening.signal });
  on(overlay, "pointermove", (event) => {
    cursor = fromEvent(event);
    drawOverlay();
    draw(event);
  });
  on(overlay, "pointerleave", () => {
    cursor = null;
    drawOverlay();
    draw();
  });
  on(overlay, "click", (event) => {
    pin = fromEvent(event);
    drawOverlay();
    setStateValue("pinned", { uv: pin, z: Array.from(codeAt(pin[0], pin[1])) });
  });

  function heard(event) {
    if (!event.detail || event.detail.model !== data.model) return;
    posterior = event.type === "vae-explorer:posterior" ? event.detail : null;
    drawOverlay();
  }
  on(window, "vae-explorer:posterior", heard);
  on(window, "vae-explorer:posterior-clear", heard);
  if (cache.posterior && cache.posterior.model === data.model) posterior = cache.posterior;

  // The server answers a pin with a rerun that renders the plane again: the base (tiles, codes, prior) is drawn
  // again only when something in it changed.
  const { pin: _pin, decoder: _decoder, ...drawn } = data;
  const base = JSON.stringify(drawn);
  status.textContent = "Loading the decoder…";
  decoder.then(async () => {
    if (map.__base !== base) {
      await drawBase(decoder);
      if (stopped) return;
      map.__base = base;
    }
    if (stopped) return;
    drawOverlay();
    status.textContent = "Move the mouse over the plane: the decoder draws the point under it. Click to pin a point.";
    root.dataset.state = "ready";
    draw();
  }).catch(fail);
  return () => {
    stopped = true;
    listening.abort();
  };
}
