/**
 * Bundles the compiled `ghostfleet` CLI (ESM, `dist/`) into one CommonJS file, the only form a Node 20 single
 * executable can run: its `require` sees built-in modules only, so every dependency must be inside.
 *
 * What a plain esbuild bundle would get wrong, and what this does instead:
 * - classic-level loads LevelDB through `node-gyp-build`, which looks for `.node` files beside the package on disk.
 *   Its `./binding` is replaced by a module that loads the addon from the executable's SEA asset
 *   (runtime/embedded-addon.ts).
 * - Files read next to a module with `readFileSync(new URL(…, import.meta.url))` (package.json versions,
 *   coordination's Lua scripts) are inlined as strings; `import.meta` is empty in CommonJS.
 * - Worker threads started from a file next to their module (devnet's block generation, the sidecar's bootstrap
 *   download) are bundled on their own and started with `eval: true` (WORKERS).
 * Every rewrite must match the source exactly as expected, and any `import.meta` left over fails the build, so a
 * change in those files shows up here rather than as a broken executable.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { isBuiltin } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as esbuild from 'esbuild'

export const ADDON_ASSET = 'classic-level.node'

const EMBEDDED_ADDON = fileURLToPath(new URL('./runtime/embedded-addon.js', import.meta.url))
const ADDON_NAMESPACE = 'ghostfleet-embedded-addon'

export interface BundleOptions {
  /** The compiled CLI entry (ESM). */
  entry: string
  /** Where the CommonJS bundle goes. */
  outfile: string
  /** The release version: names the directory the addon is cached in. */
  version: string
}

export interface BundleResult {
  outfile: string
  bytes: number
  /** Every input file, relative to the working directory (for the checks and the report). */
  inputs: string[]
}

/** Bundles a worker's entry file and returns its code. */
type WorkerCode = (workerEntry: string) => Promise<string>

/** A string literal of `text` for generated code. */
const literal = (text: string) => JSON.stringify(text)

/** Replaces `search` in `source`, which must occur exactly once. */
function replaceOnce(file: string, source: string, search: string, replacement: string): string {
  const at = source.indexOf(search)
  if (at < 0 || source.indexOf(search, at + 1) >= 0)
    throw new Error(
      `${file}: expected exactly one \`${search}\`; the source changed shape, update tools/package/src/bundle.ts`,
    )
  return source.slice(0, at) + replacement + source.slice(at + search.length)
}

/** All files under `dir`, keyed by their path relative to it ('/' separated). */
function filesUnder(dir: string, prefix = ''): Record<string, string> {
  const files: Record<string, string> = {}
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) Object.assign(files, filesUnder(full, `${prefix}${entry.name}/`))
    else files[`${prefix}${entry.name}`] = readFileSync(full, 'utf8')
  }
  return files
}

// `readFileSync(new URL('../package.json', import.meta.url), 'utf8')` and the like: a fixed path next to the module.
const STATIC_READ = /readFileSync\(new URL\('([^']+)', import\.meta\.url\), 'utf8'\)/g

/**
 * Modules whose `import.meta.url` only locates files that are not shipped (the other apps' CLI scripts, which
 * `devnet up` runs from the repository; in the executable it runs links to itself). It becomes a URL under
 * /nonexistent, so loading the module works and a use of such a file fails with an error naming the path.
 */
const NOT_SHIPPED = [/[\\/]devnet[\\/]dist[\\/]fleet[\\/]fleet-layout\.js$/]

/** The test kit (`test/kit`): nothing the executable runs may need it; its run-time pieces are local-services'. */
const TEST_CODE = /(^|[\\/])test[\\/]kit[\\/]/

/**
 * Modules that start a worker thread from a file beside them: the exact start in the compiled module, and the same
 * start with the worker's bundled code (`eval: true`; the executable has no worker file on disk).
 */
const WORKERS: ReadonlyArray<{
  module: string[]
  workerFile: string
  start: string
  startEmbedded: (code: string) => string
}> = [
  {
    module: ['devnet', 'dist', 'simnode', 'generate.js'],
    workerFile: 'generate-worker.js',
    start: "new Worker(new URL('./generate-worker.js', import.meta.url), { workerData: data })",
    startEmbedded: (code) => `new Worker(${code}, { eval: true, workerData: data })`,
  },
  {
    module: ['sidecar', 'dist', 'bootstrap', 'download-in-worker.js'],
    workerFile: 'download-worker.js',
    start: 'new Worker(downloadWorkerFile(import.meta.url), { workerData: data, env: {} })',
    startEmbedded: (code) => `new Worker(${code}, { eval: true, workerData: data, env: {} })`,
  },
]

/** Source rewrites for files that read files next to them or start workers from a file. */
function rewrite(file: string, source: string, workerCode: WorkerCode): Promise<string> | string {
  let out = source.replace(STATIC_READ, (_match, relative: string) =>
    literal(readFileSync(fileURLToPath(new URL(relative, `file://${file}`)), 'utf8')),
  )
  if (NOT_SHIPPED.some((pattern) => pattern.test(file)))
    out = out.replaceAll(
      'import.meta.url',
      literal(`file:///nonexistent/ghostfleet-executable/${path.relative(process.cwd(), file)}`),
    )
  if (file.endsWith(`${path.sep}coordination${path.sep}dist${path.sep}lua-script.js`)) {
    const commands = filesUnder(path.join(path.dirname(file), 'commands'))
    out = replaceOnce(
      file,
      out,
      "const COMMANDS_DIR = new URL('./commands/', import.meta.url);",
      `const EMBEDDED_COMMANDS = ${JSON.stringify(commands)};`,
    )
    out = replaceOnce(
      file,
      out,
      'readFileSync(new URL(path, COMMANDS_DIR), ',
      "((name) => { const text = EMBEDDED_COMMANDS[name]; if (text === undefined) throw new Error('no embedded " +
        "Lua script ' + name); return text; })(path, ",
    )
  }
  const worker = WORKERS.find((w) => file.endsWith(path.sep + path.join(...w.module)))
  if (worker !== undefined) {
    return workerCode(path.join(path.dirname(file), worker.workerFile)).then((code) =>
      replaceOnce(file, out, worker.start, worker.startEmbedded(literal(code))),
    )
  }
  return out
}

/**
 * Optional dependencies that are not installed and are required inside try/catch (debug's `supports-color`).
 * Bundled as a module that throws MODULE_NOT_FOUND, as on disk: left as `require()`, the executable's
 * built-ins-only require would print a warning on every start.
 */
const ABSENT_OPTIONAL = /^supports-color$/

function plugins(version: string, workerCode: WorkerCode): esbuild.Plugin[] {
  return [
    {
      name: 'absent-optional',
      setup(build) {
        build.onResolve({ filter: ABSENT_OPTIONAL }, (args) => ({
          path: args.path,
          namespace: 'absent-optional',
        }))
        build.onLoad({ filter: /.*/, namespace: 'absent-optional' }, (args) => ({
          contents:
            `throw Object.assign(new Error(${literal(`Cannot find module '${args.path}'`)}), ` +
            "{ code: 'MODULE_NOT_FOUND' });\n",
          loader: 'js',
        }))
      },
    },
    {
      name: 'embedded-addon',
      setup(build) {
        // classic-level's index.js, iterator.js and chained-batch.js all `require('./binding')`.
        build.onResolve({ filter: /^\.\/binding(\.js)?$/ }, (args) =>
          args.importer.includes(`${path.sep}classic-level${path.sep}`)
            ? { path: 'classic-level', namespace: ADDON_NAMESPACE }
            : undefined,
        )
        build.onLoad({ filter: /.*/, namespace: ADDON_NAMESPACE }, () => ({
          contents:
            `const { loadEmbeddedAddon } = require(${literal(EMBEDDED_ADDON)});\n` +
            `module.exports = loadEmbeddedAddon(${literal(ADDON_ASSET)}, ${literal(version)});\n`,
          loader: 'js',
          resolveDir: path.dirname(EMBEDDED_ADDON),
        }))
      },
    },
    {
      name: 'files-next-to-modules',
      setup(build) {
        build.onLoad({ filter: /\.js$/ }, async (args) => {
          if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined
          const source = readFileSync(args.path, 'utf8')
          const contents = await rewrite(args.path, source, workerCode)
          return contents === source ? undefined : { contents, loader: 'js' }
        })
      },
    },
  ]
}

async function build(
  entry: string,
  outfile: string | undefined,
  version: string,
  workerCode: WorkerCode,
): Promise<esbuild.BuildResult & { metafile: esbuild.Metafile }> {
  return esbuild.build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    ...(outfile ? { outfile } : { write: false, outfile: 'worker.cjs' }),
    write: outfile !== undefined,
    metafile: true,
    minify: false,
    legalComments: 'eof',
    logLevel: 'silent',
    // An `import.meta` that no rewrite removed would be empty at run time: refuse instead.
    logOverride: { 'empty-import-meta': 'error' },
    plugins: plugins(version, workerCode),
  })
}

/**
 * Fails if the bundle still `require()`s a module by name that is not built in: the executable's require
 * loads built-in modules only.
 */
function checkRequires(code: string): void {
  const missing = new Set<string>()
  for (const match of code.matchAll(/\brequire\((["'])([^"']+)\1\)/g)) {
    const id = match[2] ?? ''
    if (!id.startsWith('node:') && !isBuiltin(id)) missing.add(id)
  }
  if (missing.size > 0)
    throw new Error(`the bundle requires modules it does not contain: ${[...missing].join(', ')}`)
}

/**
 * Fails if a native loader or a `.node` file went into the bundle (it would look for files that do not exist), or
 * the test kit did.
 */
function checkInputs(inputs: string[]): void {
  const tests = inputs.filter((file) => TEST_CODE.test(file))
  if (tests.length > 0)
    throw new Error(
      `the bundle would carry test code: ${tests.join(', ')}; what runs at run time belongs in a runtime ` +
        'package (e.g. @ghostfleet/local-services)',
    )
  const native = inputs.filter((file) => /node-gyp-build|[\\/]bindings[\\/]|\.node$/.test(file))
  if (native.length > 0)
    throw new Error(
      `the bundle would load native code from disk: ${native.join(', ')}; route it through the SEA`,
    )
}

/** Bundles `options.entry`; see the file comment for what is rewritten. */
export async function bundle(options: BundleOptions): Promise<BundleResult> {
  const entry = path.resolve(options.entry)
  const inputs: string[] = []
  // A worker (WORKERS): a bundle of its own, embedded as a string where its module starts it.
  const workerCode = async (workerEntry: string) => {
    const result = await build(workerEntry, undefined, options.version, () => {
      throw new Error(`the worker ${workerEntry} may not start a worker of its own`)
    })
    inputs.push(...Object.keys(result.metafile.inputs))
    const output = result.outputFiles?.[0]
    if (!output) throw new Error('esbuild wrote no worker bundle')
    return output.text
  }
  const result = await build(entry, options.outfile, options.version, workerCode)
  inputs.push(...Object.keys(result.metafile.inputs))
  checkInputs(inputs)
  checkRequires(readFileSync(options.outfile, 'utf8'))
  const output = Object.values(result.metafile.outputs)[0]
  return { outfile: options.outfile, bytes: output?.bytes ?? 0, inputs }
}
