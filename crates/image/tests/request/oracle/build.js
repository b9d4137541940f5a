const ts = require("typescript");
const fs = require("fs");
const src = "/tmp/sih8/source/image-handler/";
for (const f of ["image-request.ts", "thumbor-mapper.ts", "query-param-mapper.ts", "lib/index.ts", "lib/constants.ts", "lib/enums.ts", "lib/interfaces.ts", "lib/types.ts"]) {
  const out = ts.transpileModule(fs.readFileSync(src + f, "utf8"), { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020, esModuleInterop: true, alwaysStrict: true } });
  fs.writeFileSync("sih/" + f.replace(/\.ts$/, ".js"), out.outputText);
}
