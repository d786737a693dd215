// The browser's answers are the CLI's: every spec in specs/ and specs/broken/
// through the WebAssembly build (build-web/netshape_core.js, the module
// build-web/netshape.html holds) and through the native `netshape`, for
// `table --format json` and `check --format json`: stdout, stderr and the exit
// code must be identical, byte for byte.
//
//   node tests/web/cli_equality.js build-web/netshape_core.js build/netshape
"use strict";
const fs = require("fs");
const path = require("path");
const { spawnSync } = require("child_process");

async function main() {
  const [coreJs, netshape] = process.argv.slice(2);
  const core = await require(path.resolve(coreJs))();
  const cstr = (s) => {
    const n = core.lengthBytesUTF8(s) + 1;
    const p = core._malloc(n);
    core.stringToUTF8(s, p, n);
    return p;
  };
  const call = (args, file, text) => {
    const ptrs = [cstr(JSON.stringify(args)), cstr(file), cstr(text)];
    const code = core._netshape_call(...ptrs, core.lengthBytesUTF8(text));
    ptrs.forEach((p) => core._free(p));
    return { code, stdout: core.UTF8ToString(core._netshape_stdout()), stderr: core.UTF8ToString(core._netshape_stderr()) };
  };
  const specs = [];
  for (const dir of ["specs", "specs/broken"])
    for (const f of fs.readdirSync(dir).sort())
      if (f.endsWith(".json") && f !== "schema.json") specs.push(path.join(dir, f));
  // A NUL inside the text (the catalogue's case 54, made as its golden's gen
  // makes it): the page passes the text with its length, so the browser says
  // `nul-byte` as the CLI does, never evaluates the part before it.
  const nul = path.join(require("os").tmpdir(), `netshape-nul-${process.pid}.json`);
  fs.writeFileSync(nul, '{"input": [1, 3, 8, 8], "layers": [{"type": "ReLU"}]}\0 garbage\n');
  process.on("exit", () => fs.rmSync(nul, { force: true }));
  specs.push(nul);
  let failed = 0, compared = 0;
  for (const spec of specs) {
    const text = fs.readFileSync(spec, "utf8");
    for (const command of [["table", spec, "--format", "json"], ["check", spec, "--format", "json"]]) {
      const wasm = call(command, spec, text);
      const cli = spawnSync(netshape, command, { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
      compared++;
      const same = wasm.stdout === cli.stdout && wasm.stderr === cli.stderr && wasm.code === cli.status;
      if (!same) {
        failed++;
        console.log(`FAIL netshape ${command.join(" ")}: exit ${wasm.code} (wasm) vs ${cli.status} (cli)`);
        const a = wasm.stdout.split("\n"), b = cli.stdout.split("\n");
        for (let i = 0; i < Math.max(a.length, b.length); i++)
          if (a[i] !== b[i]) { console.log(`  line ${i + 1}: wasm ${JSON.stringify(a[i])}\n           cli  ${JSON.stringify(b[i])}`); break; }
        if (wasm.stderr !== cli.stderr) console.log(`  stderr differs:\n  wasm ${JSON.stringify(wasm.stderr.slice(0, 300))}\n  cli  ${JSON.stringify(cli.stderr.slice(0, 300))}`);
      }
    }
  }
  console.log(`${compared - failed} of ${compared} runs identical (${specs.length} specs, table and check)`);
  process.exit(failed ? 1 : 0);
}
main().catch((e) => { console.error(e); process.exit(2); });
