// lambdakit-image against sharp (the engine of AWS's Serverless Image Handler), on the same
// 12-megapixel JPEG, one thread each: time per image, output, peak memory and cold start.
//
// Run with `cargo xtask bench`, or by hand from the workspace root:
//
//     npm ci --prefix benches/node
//     cargo build --release -p lambdakit-benches --bin image-transform
//     node benches/image_vs_sharp.mjs target/release/image-transform [--rounds 5] [--n 10]
//         [--warmup 2] [--cold 5] [--cases resize-jpeg,resize-png] [--keep DIR]
//
// `--keep DIR` leaves every side's last output image in DIR (`<case>.<side>.<ext>`).
//
// The cases are Serverless Image Handler (SIH) Default requests on benches/fixtures/photo-12mp.jpg
// (4000x3000, see benches/fixtures/SOURCES.md):
//
//   resize-jpeg     {"edits":{"resize":{"width":800}},"outputFormat":"jpeg"}   (the headline)
//   grayscale-jpeg  + "grayscale":true
//   watermark-jpeg  + "overlayWith":{"bucket":..,"key":"watermark.png","wRatio":"15","alpha":"20",
//                     "options":{"left":"-24","top":"-24"}}  (benches/fixtures/watermark.png, RGBA)
//   resize-png      "outputFormat":"png"
//   resize-webp     "outputFormat":"webp"
//   sepia-jpeg      + "recomb": the sepia matrix
//   clahe-jpeg      + "clahe":{"width":32,"height":32} (maxSlope 3, sharp's default)
//
// Each side runs each case in its own child process, so each has its own peak memory:
//
// - lambdakit-image: `image-transform CASE`: `Plan::new(edits, format)` and `transform(input,
//   plan, overlay, Limits::default())` on one thread (benches/src/bin/image-transform.rs).
// - sharp (the version pinned in benches/node/package-lock.json: 0.34.2, the one SIH v8.0.1's
//   lock file pins), in `node` with UV_THREADPOOL_SIZE=1, `sharp.concurrency(1)` (libvips on
//   one thread) and `sharp.cache(false)` (every image is computed again; with the cache on,
//   libvips could reuse work across the loop's identical requests, which no real request
//   stream gets). Two ways:
//     "sih": the calls SIH's ImageHandler.process makes: `sharp(input, {failOnError: false,
//       animated: false, limitInputPixels: true}).metadata()` to validate, then
//       `sharp(input, options).withMetadata()`, the edits as SIH's applyEdits applies them
//       (for overlayWith: getOverlayImage's resize and `dest-in` alpha, and the extra
//       `toBuffer()` SIH runs to learn the resized size), `toFormat(outputFormat)`, `toBuffer()`.
//     "plain": the shortest sharp chain that makes the same image: `sharp(input).resize({width:
//       800})`, `.grayscale()`, the overlay resized and faded into raw pixels, `.jpeg({quality:
//       80})` / `.png()` / `.webp({quality: 80})` (SIH's toFormat defaults).
//   The ratio is against the faster of the two, so it never flatters lambdakit.
// - Each child transforms the input `--warmup` times untimed, then `--rounds` rounds of `--n`
//   images one after the other, and reports its fastest round and its median round (time per
//   image: on a shared machine other work only slows a round down), CPU time per image (user +
//   system, all threads), its resident memory before the first transform and at its peak (the
//   kernel's maximum resident set size: VmHWM for ours, `process.resourceUsage().maxRSS` for
//   node, the number `/usr/bin/time -v` prints).
// - The script checks that both sides made an image of the same format and dimensions (and
//   warns loudly if not), and compares the pixels: both outputs decoded by sharp to 8-bit RGB,
//   the mean absolute difference per channel (0-255) and the PSNR.
// - Cold start: `--cold` times each, a fresh process from spawn to the line it prints after its
//   first image is written: `image-transform resize-jpeg --once` against `node` + `import
//   sharp` + the same first transform (SIH's calls). Nothing is warm but the page cache.
//
// Exit status: 1 if a side fails a case, 0 otherwise (a missed goal is printed, not an error).

import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, loadavg, release, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "node", "package.json"));
const fixtures = join(here, "fixtures");

const CASES = {
  "resize-jpeg": { edits: { resize: { width: 800 } }, outputFormat: "jpeg" },
  "grayscale-jpeg": { edits: { resize: { width: 800 }, grayscale: true }, outputFormat: "jpeg" },
  "watermark-jpeg": {
    edits: {
      resize: { width: 800 },
      overlayWith: {
        bucket: "bench-images",
        key: "watermark.png",
        wRatio: "15",
        alpha: "20",
        options: { left: "-24", top: "-24" },
      },
    },
    outputFormat: "jpeg",
  },
  "resize-png": { edits: { resize: { width: 800 } }, outputFormat: "png" },
  "resize-webp": { edits: { resize: { width: 800 } }, outputFormat: "webp" },
  "sepia-jpeg": {
    edits: {
      resize: { width: 800 },
      recomb: [
        [0.3588, 0.7044, 0.1368],
        [0.299, 0.587, 0.114],
        [0.2392, 0.4696, 0.0912],
      ],
    },
    outputFormat: "jpeg",
  },
  "clahe-jpeg": { edits: { resize: { width: 800 }, clahe: { width: 32, height: 32 } }, outputFormat: "jpeg" },
};

function parseArgs(args, spec) {
  const out = { _: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith("--")) {
      out._.push(a);
      continue;
    }
    const name = a.slice(2);
    if (spec[name] === "flag") out[name] = true;
    else if (name in spec) {
      if (args[i + 1] === undefined) throw new Error(`${a} needs a value`);
      out[name] = args[++i];
    } else throw new Error(`unknown option ${a}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// The sharp side (child mode): node image_vs_sharp.mjs --child CASE VARIANT ...

// SIH's ImageHandler.calcOverlaySizeOption.
function calcOverlaySizeOption(editSize, imageSize, overlaySize) {
  let resultSize = NaN;
  if (editSize !== undefined) {
    editSize = `${editSize}`;
    if (editSize.endsWith("p")) {
      resultSize = parseInt(editSize.replace("p", ""));
      resultSize = Math.floor(
        resultSize < 0 ? imageSize + (imageSize * resultSize) / 100 - overlaySize : (imageSize * resultSize) / 100,
      );
    } else {
      resultSize = parseInt(editSize);
      if (resultSize < 0) resultSize = imageSize + resultSize - overlaySize;
    }
  }
  return resultSize;
}

// SIH's getOverlayImage, the S3 read replaced by the bytes in memory.
async function sihOverlayImage(sharp, watermark, wRatio, hRatio, alpha, { width, height }) {
  const resizeOptions = { fit: "inside" };
  const zeroToHundred = /^(100|[1-9]?\d)$/;
  if (zeroToHundred.test(wRatio)) resizeOptions.width = Math.floor((width * parseInt(wRatio)) / 100);
  if (zeroToHundred.test(hRatio)) resizeOptions.height = Math.floor((height * parseInt(hRatio)) / 100);
  const alphaValue = zeroToHundred.test(alpha) ? parseInt(alpha) : 0;
  return await sharp(watermark)
    .resize(resizeOptions)
    .composite([
      {
        input: Buffer.from([255, 255, 255, 255 * (1 - alphaValue / 100)]),
        raw: { width: 1, height: 1, channels: 4 },
        tile: true,
        blend: "dest-in",
      },
    ])
    .toBuffer();
}

function sharpTransformer(sharp, name, variant, watermark) {
  const { edits, outputFormat } = CASES[name];
  if (variant === "sih") {
    // ImageHandler.process and applyEdits, for the edits these cases use.
    return async (input) => {
      const options = { failOnError: false, animated: false, limitInputPixels: true };
      await sharp(input, options).metadata();
      const image = sharp(input, options).withMetadata();
      for (const edit in edits) {
        if (edit === "resize") image.resize(edits.resize);
        else if (edit === "grayscale") image.grayscale(edits.grayscale);
        else if (edit === "overlayWith") {
          let imageMetadata = await image.metadata();
          if (edits.resize) {
            const imageBuffer = await image.toBuffer();
            imageMetadata = await sharp(imageBuffer).resize(edits.resize).metadata();
          }
          const { wRatio, hRatio, alpha, options: overlayOptions } = edits.overlayWith;
          const overlay = await sihOverlayImage(sharp, watermark, wRatio, hRatio, alpha, imageMetadata);
          const overlayMetadata = await sharp(overlay).metadata();
          const overlayOption = { ...overlayOptions, input: overlay };
          const left = calcOverlaySizeOption(overlayOptions.left, imageMetadata.width, overlayMetadata.width);
          if (!isNaN(left)) overlayOption.left = left;
          const top = calcOverlaySizeOption(overlayOptions.top, imageMetadata.height, overlayMetadata.height);
          if (!isNaN(top)) overlayOption.top = top;
          image.composite([overlayOption]);
        } else if (edit === "recomb" || edit === "clahe") {
          // SIH's default branch: an allow-listed sharp method called with the edit's value.
          image[edit](edits[edit]);
        } else throw new Error(`no SIH mapping for edit ${edit}`);
      }
      image.toFormat(outputFormat);
      return await image.toBuffer({ resolveWithObject: true });
    };
  }
  // plain: the shortest chain to the same image.
  return async (input) => {
    const image = sharp(input).resize({ width: edits.resize.width });
    if (edits.grayscale) image.grayscale();
    if (edits.recomb) image.recomb(edits.recomb);
    if (edits.clahe) image.clahe(edits.clahe);
    if (edits.overlayWith) {
      const meta = await sharp(input).metadata();
      const width = edits.resize.width;
      const height = Math.round((meta.height * width) / meta.width);
      const { wRatio, alpha, options } = edits.overlayWith;
      const { data, info } = await sharp(watermark)
        .resize({ width: Math.floor((width * parseInt(wRatio)) / 100), fit: "inside" })
        .ensureAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      const keep = 1 - parseInt(alpha) / 100;
      for (let i = 3; i < data.length; i += 4) data[i] = Math.round(data[i] * keep);
      image.composite([
        {
          input: data,
          raw: { width: info.width, height: info.height, channels: 4 },
          left: calcOverlaySizeOption(options.left, width, info.width),
          top: calcOverlaySizeOption(options.top, height, info.height),
        },
      ]);
    }
    if (outputFormat === "jpeg") image.jpeg({ quality: 80 });
    else if (outputFormat === "png") image.png();
    else if (outputFormat === "webp") image.webp({ quality: 80 });
    return await image.toBuffer({ resolveWithObject: true });
  };
}

async function child(args) {
  const o = parseArgs(args, {
    child: "flag",
    warmup: "v",
    rounds: "v",
    n: "v",
    out: "v",
    once: "flag",
    input: "v",
    overlay: "v",
  });
  const [name, variant] = o._;
  const start = process.hrtime.bigint();
  const { default: sharp } = await import(require.resolve("sharp"));
  sharp.concurrency(1);
  sharp.cache(false);
  const importMs = Number(process.hrtime.bigint() - start) / 1e6;
  const input = readFileSync(o.input ?? join(fixtures, "photo-12mp.jpg"));
  const watermark = readFileSync(o.overlay ?? join(fixtures, "watermark.png"));
  const once = sharpTransformer(sharp, name, variant, watermark);
  const baselineRss = process.memoryUsage().rss;
  let t = process.hrtime.bigint();
  let last = await once(input);
  const result = {
    side: `sharp-${variant}`,
    case: name,
    import_ms: importMs,
    first_ms: Number(process.hrtime.bigint() - t) / 1e6,
  };
  if (!o.once) {
    const warmup = Number(o.warmup ?? 2);
    const rounds = Math.max(1, Number(o.rounds ?? 5));
    const n = Math.max(1, Number(o.n ?? 10));
    for (let i = 1; i < warmup; i++) last = await once(input);
    const cpuStart = process.cpuUsage();
    const perImage = [];
    for (let r = 0; r < rounds; r++) {
      t = process.hrtime.bigint();
      for (let i = 0; i < n; i++) last = await once(input);
      perImage.push(Number(process.hrtime.bigint() - t) / 1e6 / n);
    }
    const cpu = process.cpuUsage(cpuStart);
    perImage.sort((a, b) => a - b);
    Object.assign(result, {
      warmup,
      rounds,
      n,
      best_ms: perImage[0],
      median_ms: perImage[Math.floor(perImage.length / 2)],
      rounds_ms: perImage,
      cpu_ms_per_image: (cpu.user + cpu.system) / 1e3 / (rounds * n),
    });
  }
  Object.assign(result, {
    format: last.info.format,
    width: last.info.width,
    height: last.info.height,
    bytes: last.data.length,
    input_bytes: input.length,
    baseline_rss_kib: Math.round(baselineRss / 1024),
    peak_rss_kib: process.resourceUsage().maxRSS,
  });
  if (o.out) writeFileSync(o.out, last.data);
  console.log(JSON.stringify(result));
}

// ---------------------------------------------------------------------------------------
// The parent: runs both sides case by case and prints the comparison.

function runChild(command, args, env) {
  return new Promise((resolvePromise) => {
    const started = process.hrtime.bigint();
    const proc = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let firstLineMs = null;
    proc.stdout.on("data", (chunk) => {
      stdout += chunk;
      if (firstLineMs === null && stdout.includes("\n")) {
        firstLineMs = Number(process.hrtime.bigint() - started) / 1e6;
      }
    });
    proc.stderr.on("data", (chunk) => (stderr += chunk));
    proc.on("error", (error) => resolvePromise({ ok: false, error: error.message }));
    proc.on("close", (code) => {
      if (code !== 0) {
        resolvePromise({ ok: false, error: `exit ${code}: ${stderr.trim()}` });
        return;
      }
      try {
        resolvePromise({ ok: true, result: JSON.parse(stdout.trim().split("\n")[0]), firstLineMs });
      } catch (e) {
        resolvePromise({ ok: false, error: `bad output ${JSON.stringify(stdout)}: ${e.message}` });
      }
    });
  });
}

const NODE_ENV = { UV_THREADPOOL_SIZE: "1" };
const nodeChild = (name, variant, extra) => [
  fileURLToPath(import.meta.url),
  "--child",
  name,
  variant,
  ...extra,
];

async function compare(sharp, a, b) {
  // Both decoded to 8-bit sRGB, 3 channels, by the same decoder.
  const raw = (file) =>
    sharp(file).removeAlpha().toColourspace("srgb").raw().toBuffer({ resolveWithObject: true });
  const [x, y] = await Promise.all([raw(a), raw(b)]);
  if (x.info.width !== y.info.width || x.info.height !== y.info.height || x.info.channels !== y.info.channels) {
    return null;
  }
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < x.data.length; i++) {
    const d = x.data[i] - y.data[i];
    sum += Math.abs(d);
    sq += d * d;
  }
  const mse = sq / x.data.length;
  return { mean_abs_diff: sum / x.data.length, psnr_db: mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse) };
}

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2), { rounds: "v", n: "v", warmup: "v", cold: "v", cases: "v", keep: "v" });
  } catch (e) {
    o = { error: e.message };
  }
  const rustBin = o._?.[0];
  if (o.error || !rustBin) {
    if (o.error) console.error(o.error);
    console.error(
      "usage: node benches/image_vs_sharp.mjs target/release/image-transform [--rounds R] [--n N] " +
        "[--warmup W] [--cold K] [--cases a,b] [--keep DIR]",
    );
    process.exit(2);
  }
  let sharp;
  try {
    ({ default: sharp } = await import(require.resolve("sharp")));
  } catch (e) {
    console.error(`sharp is not installed (run: npm ci --prefix benches/node): ${e.message}`);
    process.exit(2);
  }
  const rounds = o.rounds ?? "5";
  const n = o.n ?? "10";
  const warmup = o.warmup ?? "2";
  const coldRuns = Number(o.cold ?? 5);
  const caseNames = o.cases ? o.cases.split(",") : Object.keys(CASES);
  for (const name of caseNames) {
    if (!CASES[name]) {
      console.error(`unknown case ${name}; cases: ${Object.keys(CASES).join(", ")}`);
      process.exit(2);
    }
  }
  const dir = o.keep ? resolve(o.keep) : mkdtempSync(join(tmpdir(), "image-bench-"));
  mkdirSync(dir, { recursive: true });
  const loadBefore = loadavg();
  const loop = ["--warmup", warmup, "--rounds", rounds, "--n", n];
  const ext = (format) => (format === "jpeg" ? "jpg" : format);

  const rows = [];
  let failed = false;
  for (const name of caseNames) {
    const format = CASES[name].outputFormat;
    const out = (side) => join(dir, `${name}.${side}.${ext(format)}`);
    const sides = {};
    sides.ours = await runChild(rustBin, [name, ...loop, "--out", out("lambdakit")], {});
    sides.sih = await runChild(process.execPath, nodeChild(name, "sih", [...loop, "--out", out("sharp-sih")]), NODE_ENV);
    sides.plain = await runChild(
      process.execPath,
      nodeChild(name, "plain", [...loop, "--out", out("sharp-plain")]),
      NODE_ENV,
    );
    for (const [side, r] of Object.entries(sides)) {
      if (!r.ok) {
        failed = true;
        console.error(`FAILED: ${name}, ${side === "ours" ? "lambdakit-image" : `sharp-${side}`}: ${r.error}`);
      }
    }
    const row = { case: name, ours: sides.ours.result, sih: sides.sih.result, plain: sides.plain.result };
    if (row.ours && (row.sih || row.plain)) {
      const peer = [row.sih, row.plain].filter(Boolean).reduce((a, b) => (b.best_ms < a.best_ms ? b : a));
      row.peer = peer.side;
      row.ratio = peer.best_ms / row.ours.best_ms;
      row.ratio_median = peer.median_ms / row.ours.median_ms;
      row.ratio_cpu = peer.cpu_ms_per_image / row.ours.cpu_ms_per_image;
      row.rss_ratio = peer.peak_rss_kib / row.ours.peak_rss_kib;
      row.same_shape =
        row.ours.width === peer.width && row.ours.height === peer.height && row.ours.format === peer.format;
      if (!row.same_shape) {
        console.error(
          `\n!!!!!!!! WARNING: ${name}: lambdakit-image made a ${row.ours.format} ${row.ours.width}x${row.ours.height}, ` +
            `sharp a ${peer.format} ${peer.width}x${peer.height}: NOT THE SAME IMAGE !!!!!!!!\n`,
        );
      }
      row.diff = await compare(sharp, out("lambdakit"), out(peer.side === "sharp-sih" ? "sharp-sih" : "sharp-plain"));
    }
    rows.push(row);
  }

  // Cold start, alternating sides so that load hits both alike.
  const cold = { ours: [], sharp: [] };
  const coldOut = (side) => join(dir, `cold.${side}.jpg`);
  for (let i = 0; i < coldRuns; i++) {
    const ours = await runChild(rustBin, ["resize-jpeg", "--once", "--out", coldOut("lambdakit")], {});
    const peer = await runChild(
      process.execPath,
      nodeChild("resize-jpeg", "sih", ["--once", "--out", coldOut("sharp")]),
      NODE_ENV,
    );
    for (const [side, r] of [["lambdakit-image", ours], ["sharp", peer]]) {
      if (!r.ok) {
        failed = true;
        console.error(`FAILED: cold start, ${side}: ${r.error}`);
      }
    }
    if (ours.ok) cold.ours.push({ ms: ours.firstLineMs, ...ours.result });
    if (peer.ok) cold.sharp.push({ ms: peer.firstLineMs, ...peer.result });
  }
  const loadAfter = loadavg();

  // Report.
  const sharpVersion = JSON.parse(readFileSync(join(here, "node", "node_modules", "sharp", "package.json"), "utf8")).version;
  const f1 = (x) => (x === undefined ? "-" : x.toFixed(1));
  const mib = (kib) => (kib === undefined ? "-" : (kib / 1024).toFixed(0));
  console.log(
    `\nlambdakit-image vs sharp ${sharpVersion} (libvips ${sharp.versions.vips}), one thread each, ` +
      `input ${join("benches", "fixtures", "photo-12mp.jpg")} (4000x3000, ${readFileSync(join(fixtures, "photo-12mp.jpg")).length} bytes)\n` +
      `${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} CPUs, Linux ${release()}, Node ${process.version}; ` +
      `load average ${loadBefore.map((l) => l.toFixed(2)).join(" ")} before, ${loadAfter.map((l) => l.toFixed(2)).join(" ")} after\n` +
      `ms per image: best of ${rounds} rounds of ${n} after ${warmup} untimed (median round in parentheses); ` +
      `ratio = faster sharp way's best / ours (median / median in parentheses); CPU = user + system of all threads, ` +
      `over the timed rounds, of the same sharp way\n`,
  );
  console.log(
    "| case | lambdakit-image | sharp as SIH calls it | sharp, plain chain | ratio | CPU ms/image ours / sharp (ratio) | " +
      "output ours / sharp | bytes ours / sharp | pixels: mean abs diff, PSNR | peak RSS MiB ours / sharp (before first image) |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |");
  for (const r of rows) {
    const cell = (x) => (x ? `${f1(x.best_ms)} (${f1(x.median_ms)})` : "FAILED");
    const peer = r.peer === "sharp-sih" ? r.sih : r.plain;
    const shape = (x) => (x ? `${x.format} ${x.width}x${x.height}` : "-");
    console.log(
      `| ${r.case} | ${cell(r.ours)} | ${cell(r.sih)} | ${cell(r.plain)} | ` +
        `${r.ratio ? `**${r.ratio.toFixed(2)}x** (${r.ratio_median.toFixed(2)}x)` : "-"} | ` +
        `${f1(r.ours?.cpu_ms_per_image)} / ${f1(peer?.cpu_ms_per_image)} (${r.ratio_cpu ? `${r.ratio_cpu.toFixed(2)}x` : "-"}) | ` +
        `${shape(r.ours)} / ${shape(peer)}${r.same_shape === false ? " **MISMATCH**" : ""} | ` +
        `${r.ours?.bytes ?? "-"} / ${peer?.bytes ?? "-"} | ` +
        `${r.diff ? `${r.diff.mean_abs_diff.toFixed(2)}, ${r.diff.psnr_db.toFixed(1)} dB` : "-"} | ` +
        `${mib(r.ours?.peak_rss_kib)} (${mib(r.ours?.baseline_rss_kib)}) / ${mib(peer?.peak_rss_kib)} (${mib(peer?.baseline_rss_kib)}) |`,
    );
  }
  const stats = (list, key) => {
    const v = list.map((x) => x[key]).sort((a, b) => a - b);
    return v.length ? { min: v[0], median: v[Math.floor(v.length / 2)] } : null;
  };
  const coldOurs = stats(cold.ours, "ms");
  const coldSharp = stats(cold.sharp, "ms");
  console.log(
    `\nCold start, resize-jpeg, process spawn to first image written (${coldRuns} runs each, min / median ms):\n`,
  );
  console.log("| side | spawn to first image | of which: sharp import | first transform in-process |");
  console.log("| --- | ---: | ---: | ---: |");
  if (coldOurs) {
    const t = stats(cold.ours, "first_ms");
    console.log(`| lambdakit-image (release binary) | ${f1(coldOurs.min)} / ${f1(coldOurs.median)} | | ${f1(t.min)} / ${f1(t.median)} |`);
  }
  if (coldSharp) {
    const imp = stats(cold.sharp, "import_ms");
    const t = stats(cold.sharp, "first_ms");
    console.log(
      `| node + sharp (SIH's calls) | ${f1(coldSharp.min)} / ${f1(coldSharp.median)} | ${f1(imp.min)} / ${f1(imp.median)} | ${f1(t.min)} / ${f1(t.median)} |`,
    );
  }
  if (coldOurs && coldSharp) console.log(`\ncold-start ratio (median): ${(coldSharp.median / coldOurs.median).toFixed(1)}x`);

  console.log(
    "\n" +
      JSON.stringify({
        sharp: sharpVersion,
        vips: sharp.versions.vips,
        node: process.version,
        rounds: Number(rounds),
        n: Number(n),
        warmup: Number(warmup),
        load_before: loadBefore,
        load_after: loadAfter,
        results: rows,
        cold,
      }),
  );

  const goal = 1.5;
  const headline = rows.find((r) => r.case === "resize-jpeg");
  if (headline?.ratio !== undefined) {
    const met = headline.ratio >= goal;
    const memory = headline.rss_ratio > 1;
    console.log(
      `\nheadline resize-jpeg: ${headline.ratio.toFixed(2)}x sharp's throughput (goal >= ${goal}x: ${met ? "met" : "MISSED"}); ` +
        `peak RSS ${mib(headline.ours.peak_rss_kib)} MiB vs ${mib(headline[headline.peer === "sharp-sih" ? "sih" : "plain"].peak_rss_kib)} MiB (lower: ${memory ? "yes" : "NO"})`,
    );
  }
  if (o.keep) console.log(`outputs kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
  process.exit(failed ? 1 : 0);
}

if (process.argv[2] === "--child") {
  child(process.argv.slice(2)).catch((e) => {
    console.error(e.stack ?? String(e));
    process.exit(1);
  });
} else {
  await main();
}
