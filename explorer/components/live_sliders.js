// Sliders that decode while they are dragged: each `input` event decodes (at most once per animation frame) and paints
// the canvas. The server hears only the released code (setStateValue on "change"), for the URL and the other pages.
export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const root = parentElement.querySelector(".live");
  const status = root.querySelector(".status");
  const list = root.querySelector(".sliders");
  const show = pictureCanvas(root.querySelector("canvas"), data.shape, data.pixels);
  const z = Float32Array.from(data.z);
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
      draw(event);
    });
    input.addEventListener("change", () => setStateValue("z", Array.from(z)));
    row.append(name, input, value);
    return row;
  }));

  // the picture is saved from the canvas, enlarged without blurring: the server decodes nothing for it
  root.querySelector("a.download").addEventListener("click", (event) => {
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
      const link = Object.assign(document.createElement("a"), { href: URL.createObjectURL(blob), download: data.file_name });
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 1000);
    }, "image/png");
  });

  status.textContent = "Loading the decoder…";
  decoder.then(() => {
    const outside = list.querySelectorAll(".outside").length;
    status.textContent = "Decoded in this browser as you drag." + (outside
      ? ` ${outside} of this code's values lie outside their slider's range (marked ◂ or ▸): they keep their values.`
      : "");
    root.dataset.state = "ready";
    draw();
  }, fail);
  return () => { stopped = true; };
}
