// A track from A to B: each `input` event computes the code at t and decodes it (at most once per animation frame).
// The server hears only the released t (setStateValue on "change"), for the URL.
const PLAY_MS = 2500; // Play: A to B in this time, then back

// The code at t on the path from a to b, as vae_core.service.interpolate_linear and interpolate_slerp compute it:
// slerp falls back to the straight line when a code is (nearly) zero or a and b are (anti)parallel.
function pathPoint(a, b, method, t) {
  let wa = 1 - t;
  let wb = t;
  if (method === "slerp") {
    const na = norm(a);
    const nb = norm(b);
    if (na >= 1e-8 && nb >= 1e-8) {
      let cos = 0;
      for (let i = 0; i < a.length; i++) cos += (a[i] / na) * (b[i] / nb);
      const omega = Math.acos(Math.min(1, Math.max(-1, cos)));
      const sin = Math.sin(omega);
      if (Math.abs(sin) >= 1e-6) {
        wa = Math.sin((1 - t) * omega) / sin;
        wb = Math.sin(t * omega) / sin;
      }
    }
  }
  return Float32Array.from(a, (v, i) => wa * v + wb * b[i]);
}

function norm(z) {
  let sum = 0;
  for (const v of z) sum += v * v;
  return Math.sqrt(sum);
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const root = parentElement.querySelector(".scrub");
  const track = root.querySelector("input[type=range]");
  const tText = root.querySelector("output.t");
  const normText = root.querySelector("output.norm");
  const play = root.querySelector(".play");
  const status = root.querySelector(".status");
  const show = pictureCanvas(root.querySelector("canvas"), data.shape, data.pixels);
  const a = Float32Array.from(data.a);
  const b = Float32Array.from(data.b);
  const ends = `at A ${norm(a).toFixed(2)}, at B ${norm(b).toFixed(2)}`;
  const listening = new AbortController(); // this render's listeners; a re-render brings its own
  const on = (element, type, handler) => element.addEventListener(type, handler, { signal: listening.signal });
  let t, z; // the track's position and the code there
  let stopped = false;
  let playing = null; // the animation frame request while Play runs
  // for the browser test (and the curious reader in the console): the code this page decodes at t
  cache.scrubCode = (at) => Array.from(pathPoint(a, b, data.method, at));

  function fail(error) {
    stopPlaying();
    status.textContent = `This browser cannot decode here (${errorText(error)}); the server decodes instead.`;
    root.dataset.state = "failed";
    setStateValue("failed", errorText(error));
  }

  const decoder = session(data.decoder);
  const draw = everyFrame(async () => {
    const decoded = await decodeCodes(decoder, z, 1, data.label);
    if (stopped) return false;
    show(decoded);
  }, fail);

  // The server answers a release with a rerun that renders the track again: on the same path the page's own t stays
  // (the student may be dragging again already); a new path starts at the server's t.
  const path = JSON.stringify([data.a, data.b, data.method, data.label]);
  const start = root.__scrub && root.__scrub.path === path ? root.__scrub.t : data.t;

  function setT(value) {
    t = value;
    root.__scrub = { path, t };
    z = pathPoint(a, b, data.method, t);
    tText.textContent = `t = ${t.toFixed(3)}`;
    normText.textContent = `length of the code ‖z‖ = ${norm(z).toFixed(2)} (${ends})`;
  }

  function stopPlaying() {
    if (playing === null) return;
    cancelAnimationFrame(playing);
    playing = null;
    play.textContent = "Play";
  }

  function startPlaying() {
    // the clock starts where the track is, heading for B (or back to A from B's end)
    const started = performance.now() - (t >= 1 ? PLAY_MS : t * PLAY_MS);
    play.textContent = "Stop";
    const step = (now) => {
      const phase = ((now - started) / PLAY_MS) % 2; // 0..1 towards B, 1..2 back to A
      const at = Math.round(1000 * (phase <= 1 ? phase : 2 - phase)) / 1000;
      track.value = String(at);
      setT(at);
      draw();
      playing = requestAnimationFrame(step);
    };
    playing = requestAnimationFrame(step);
  }

  track.value = String(start);
  on(track, "input", (event) => {
    setT(Number(track.value));
    draw(event);
  });
  on(track, "change", () => setStateValue("t", t));
  on(track, "pointerdown", stopPlaying); // grabbing the track takes over from Play
  on(track, "keydown", stopPlaying);
  on(play, "click", () => {
    if (playing === null) {
      startPlaying();
    } else {
      stopPlaying();
      setStateValue("t", t); // where it stopped goes to the URL, as a release does
    }
  });

  setT(start);
  status.textContent = "Loading the decoder…";
  decoder.then(() => {
    status.textContent = "Decoded in this browser as you drag. Press Play to walk from A to B and back.";
    root.dataset.state = "ready";
    draw();
  }, fail);
  return () => {
    stopped = true;
    stopPlaying();
    listening.abort();
  };
}
