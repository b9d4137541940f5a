// Runs SIH v8's real ImageRequest.setup (minus S3) on each case from stdin; prints results.
const { ImageRequest } = require("./sih/image-request");
const { ImageHandlerError } = require("./sih/lib");
const SUPPORTED = ["jpg", "jpeg", "png", "webp", "tiff", "heif", "gif", "avif"];

function convert(v, top) {
  if (typeof v === "number") {
    if (Number.isNaN(v)) return "NaN";
    if (v === Infinity) return "Infinity";
    if (v === -Infinity) return "-Infinity";
    if (Object.is(v, -0)) return 0;
    return v;
  }
  if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : convert(x)));
  if (v && typeof v === "object") {
    const out = {};
    for (const k of Object.keys(v)) {
      if (v[k] === undefined) {
        if (top && k === "rotate") out[k] = "auto";
        continue;
      }
      out[k] = convert(v[k]);
    }
    return out;
  }
  return v;
}

function editsObject(e) {
  if (e === undefined || e === null) return {};
  if (typeof e === "object" || typeof e === "string") return convert({ ...e }, true);
  return {};
}

async function run(c) {
  const prev = process.env;
  process.env = { ...(c.env || {}) };
  const contentType = c.contentType || "image/jpeg";
  const s3 = {
    send: async (cmd) => {
      const { Key } = cmd.input;
      if (Key === undefined || Key === null) throw new Error("No value provided for input HTTP label: Key.");
      if (Key.length <= 0) throw new Error("Empty value provided for input HTTP label: Key.");
      if (typeof Key !== "string") Key.split("/");
      return { Body: { transformToByteArray: async () => new Uint8Array([0xff, 0xd8, 0xff]) }, ContentType: contentType };
    },
  };
  const event = { path: c.path, headers: c.accept !== undefined ? { Accept: c.accept } : {} };
  if (c.query) event.queryStringParameters = c.query;
  const origError = console.error, origInfo = console.info, origWarn = console.warn;
  console.error = console.info = console.warn = () => {};
  try {
    const info = await new ImageRequest(s3, null).setup(event);
    if (info.outputFormat !== undefined && !SUPPORTED.includes(info.outputFormat)) {
      throw new ImageHandlerError(500, "UnsupportedOutputImageFormatException", `Format to ${info.outputFormat} not supported`);
    }
    const headers = info.headers ? Object.fromEntries(Object.entries(info.headers).map(([k, v]) => [k, String(v)])) : null;
    const of = info.outputFormat === undefined ? null : info.outputFormat === "jpg" ? "jpeg" : info.outputFormat;
    return { expect: { requestType: info.requestType, bucket: info.bucket, key: info.key, edits: editsObject(info.edits), outputFormat: of, effort: info.effort === undefined ? null : info.effort, headers, contentType: info.contentType } };
  } catch (error) {
    if (error && error.status) return { error: { status: error.status, code: error.code, message: error.message } };
    return { error: { status: 500, code: "InternalError", message: "Internal error. Please contact the system administrator." }, thrown: String(error) };
  } finally {
    console.error = origError; console.info = origInfo; console.warn = origWarn;
    process.env = prev;
  }
}

(async () => {
  const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const out = [];
  // The content type setup ends up with for the source: S3's when SIH knows it, otherwise
  // what inferImageType reads from the stub's bytes (JPEG).
  const known = ["image/png", "image/jpeg", "image/webp", "image/tiff", "image/gif", "image/svg+xml", "image/avif"];
  for (const c of cases) {
    const ct = c.contentType || "image/jpeg";
    out.push({ ...c, ...(await run(c)), contentType: known.includes(ct) ? ct : "image/jpeg" });
  }
  process.stdout.write(JSON.stringify(out, null, 1));
})();
