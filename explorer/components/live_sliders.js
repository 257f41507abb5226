// Sliders that decode while they are dragged: each `input` event decodes (at most once per animation frame) and paints
// the canvas. The server hears only the released code (setStateValue on "change"), for the URL and the other pages.
//
// The server answers a release with a rerun that renders this component again. The sliders are built once per layout
// and kept through such renders, with the code the page holds: a student who has already grabbed the next slider when
// the rerun arrives keeps dragging it. (A new start code, range or class comes with a new component key.)
export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const root = parentElement.querySelector(".live");
  const status = root.querySelector(".status");
  const list = root.querySelector(".sliders");
  const layout = JSON.stringify([data.dims, data.low, data.high, data.labels, data.shape, data.label, data.file_name]);
  if (!root.__live || root.__live.layout !== layout) root.__live = build(root, list, data, layout);
  const live = root.__live; // the sliders' elements, the code they hold, and this render's handlers
  const z = live.z;
  const show = pictureCanvas(root.querySelector("canvas"), data.shape, data.pixels);
  let stopped = false;

  function fail(error) {
    status.textContent = `This browser cannot decode here (${errorText(error)}); the server decodes instead.`;
    root.dataset.state = "failed";
    setStateValue("failed", errorText(error));
  }

  const decoder = session(data.decoder);
  const draw = everyFrame(async () => {
    const decoded = await decodeCodes(decoder, z.slice(), 1, data.label);
    if (stopped) return false;
    show(decoded);
  }, fail);
  live.moved = (event) => draw(event);
  live.released = () => setStateValue("z", Array.from(z));

  status.textContent = "Loading the decoder…";
  decoder.then(() => {
    if (stopped) return;
    const outside = list.querySelectorAll(".outside").length;
    status.textContent = "Decoded in this browser as you drag." + (outside
      ? ` ${outside} of this code's values lie outside their slider's range (marked ◂ or ▸): they keep their values.`
      : "");
    root.dataset.state = "ready";
    draw();
  }, fail);
  return () => { stopped = true; };
}

// The sliders for `data`'s code and layout, and the download link; their listeners call the current render's
// handlers (live.moved, live.released), so they outlive the render that made them.
function build(root, list, data, layout) {
  const live = { layout, z: Float32Array.from(data.z), moved: () => {}, released: () => {} };
  const z = live.z;
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
    // a code past the slider's end keeps its value (the thumb waits at the end) until the slider is moved
    if (z[dim] < data.low[i] || z[dim] > data.high[i]) {
      row.classList.add("outside");
      row.title = `This code's z${dim} is ${z[dim].toFixed(2)}, outside the slider's ${data.low[i]} to ${data.high[i]}: `
        + "it keeps that value until you move the slider.";
      value.textContent += z[dim] < data.low[i] ? " ◂" : " ▸";
    }
    input.addEventListener("input", (event) => {
      z[dim] = Number(input.value);
      value.textContent = z[dim].toFixed(2);
      row.classList.remove("outside");
      live.moved(event);
    });
    input.addEventListener("change", () => live.released());
    row.append(name, input, value);
    return row;
  }));

  // the picture is saved from the canvas, enlarged without blurring: the server decodes nothing for it
  const old = root.querySelector("a.download");
  const link = old.cloneNode(true); // a fresh element: no listener of an earlier layout stays on it
  old.replaceWith(link);
  link.addEventListener("click", (event) => {
    event.preventDefault();
    const canvas = root.querySelector("canvas");
    const scale = Math.max(1, Math.round(data.pixels / canvas.width));
    const big = document.createElement("canvas");
    big.width = canvas.width * scale;
    big.height = canvas.height * scale;
    const ctx = big.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(canvas, 0, 0, big.width, big.height);
    big.toBlob((blob) => {
      const save = Object.assign(document.createElement("a"), { href: URL.createObjectURL(blob), download: data.file_name });
      save.click();
      setTimeout(() => URL.revokeObjectURL(save.href), 1000);
    }, "image/png");
  });
  return live;
}
