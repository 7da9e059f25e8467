// SPDX-License-Identifier: GPL-2.0
//
// peer-llamacpp.mjs: llama.cpp's prefill and decode tokens/s on a GGUF file,
// through node-llama-cpp's prebuilt CPU binaries (an npm package, installed by
// tools/bench/bench-peer.sh into a cache directory outside the repository).
//
//   node peer-llamacpp.mjs --cache DIR --model FILE [--threads N] [--prompt N]
//        [--gen N] [--reps N] [--info]
//
// For each rep a fresh context: prefill --prompt tokens in one batch, then
// decode --gen tokens one by one (greedy). Model load is not timed. The
// figures are llama.cpp's own (llama_perf_context: "prompt eval time" and
// "eval time"), with the wall time around the calls beside them (which adds
// node-llama-cpp's sampling and scheduling). One line per rep:
//   rep R threads T prefill_tps X decode_tps Y wall_prefill_tps X wall_decode_tps Y
//       decode_cpus C
// (C: CPU time of the process over wall time while decoding, i.e. how many
// of the threads asked for actually ran)
// and "info ..." lines: versions, the CPU backend ggml loaded, system info.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

function usage(code) {
	const out = code ? process.stderr : process.stdout;
	out.write("usage: node peer-llamacpp.mjs --cache DIR --model FILE [--threads N] " +
		  "[--prompt N] [--gen N] [--reps N] [--info]\n");
	process.exit(code);
}

const opt = { cache: "", model: "", threads: 2, prompt: 128, gen: 64, reps: 1, info: false };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
	const a = argv[i];
	if (a === "--help" || a === "-h")
		usage(0);
	if (a === "--info") {
		opt.info = true;
		continue;
	}
	const k = a.replace(/^--/, "");
	if (!(k in opt) || i + 1 >= argv.length)
		usage(2);
	opt[k] = typeof opt[k] === "number" ? Number(argv[++i]) : argv[++i];
}
if (!opt.cache || !opt.model || !(opt.threads > 0) || !(opt.prompt > 1) || !(opt.gen > 0))
	usage(2);

const pkgDir = join(opt.cache, "node_modules", "node-llama-cpp");
if (!existsSync(join(pkgDir, "package.json"))) {
	console.error(`peer-llamacpp: node-llama-cpp is not installed in ${opt.cache}`);
	process.exit(3);
}
const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(join(pkgDir, pkg.main)).href);

const logs = [];
const llama = await getLlama({
	gpu: false,
	build: "never",
	usePrebuiltBinaries: true,
	progressLogs: false,
	maxThreads: 0,
	logLevel: LlamaLogLevel.debug,
	logger: (level, msg) => logs.push(msg),
});

function info(line) {
	console.log(`info ${line}`);
}

const binPkg = join(opt.cache, "node_modules", "@node-llama-cpp", "linux-x64");
let build = "?";
try {
	const meta = JSON.parse(readFileSync(join(binPkg, "bins", "linux-x64",
						  "_nlcBuildMetadata.json"), "utf8"));
	build = `${meta.buildOptions.llamaCpp.repo} ${meta.buildOptions.llamaCpp.release}`;
} catch {
	/* not a prebuilt from that package */
}
info(`node-llama-cpp ${pkg.version}, llama.cpp ${build}, binary ${llama.buildType}, ` +
     `gpu ${llama.gpu}`);
info(`system_info ${llama.systemInfo.trim()}`);

const model = await llama.loadModel({ modelPath: opt.model, gpuLayers: 0, useMmap: true });
for (const l of logs)
	if (/load_backend/.test(l))
		info(l.trim());
const want = new RegExp("print_info: (arch|file type|model params|n_embd|n_layer|n_ff|n_vocab) " +
			"|type +[A-Za-z0-9_]+: +\\d+ tensors|CPU_REPACK");
if (opt.info)
	for (const l of logs)
		if (want.test(l))
			info(l.trim());

// Token ids as bitnet-bench e2e picks them (bench_prompt(), salt 0).
const nVocab = model.fileInfo.metadata?.tokenizer?.ggml?.tokens?.length ?? 0;
if (nVocab <= 300) {
	console.error(`peer-llamacpp: vocabulary of ${nVocab} tokens, want more than 300`);
	process.exit(1);
}
const prompt = Array.from({ length: opt.prompt }, (_, i) => 300 + ((i * 7919) % (nVocab - 300)));

function perf(from) {
	let p = 0, pn = 0, e = 0, en = 0;
	for (const l of logs.slice(from)) {
		let m = l.match(/prompt eval time =\s*([\d.]+) ms \/\s*(\d+) tokens/);
		if (m) {
			p = +m[1];
			pn = +m[2];
			continue;
		}
		m = l.match(/\beval time =\s*([\d.]+) ms \/\s*(\d+) runs/);
		if (m) {
			e = +m[1];
			en = +m[2];
		}
	}
	return { p, pn, e, en };
}

for (let r = 0; r < opt.reps; r++) {
	const ctx = await model.createContext({
		contextSize: Math.max(512, opt.prompt + opt.gen + 16),
		batchSize: Math.max(opt.prompt, 1),
		sequences: 1,
		threads: { ideal: opt.threads, min: opt.threads },
		performanceTracking: true,
	});
	if (r === 0)
		info(`context threads ${ctx.currentThreads} (asked ${opt.threads})`);
	const seq = ctx.getSequence();
	let t0 = performance.now();
	await seq.evaluateWithoutGeneratingNewTokens(prompt);
	const wp = performance.now() - t0;
	let n = 0;
	const cpu0 = process.cpuUsage();
	t0 = performance.now();
	for await (const tok of seq.evaluate([prompt[opt.prompt - 1]], { temperature: 0 })) {
		void tok;
		if (++n >= opt.gen)
			break;
	}
	const wd = performance.now() - t0;
	const cpu = process.cpuUsage(cpu0);
	const from = logs.length;
	await ctx.printTimings();
	const t = perf(from);
	await ctx.dispose();
	if (t.pn !== opt.prompt || t.en < opt.gen) {
		console.error(`peer-llamacpp: llama.cpp timed ${t.pn} prompt tokens and ${t.en} ` +
			      `decode runs, expected ${opt.prompt} and ${opt.gen}`);
		process.exit(1);
	}
	console.log(`rep ${r} threads ${opt.threads} prefill_tps ${(t.pn * 1000 / t.p).toFixed(2)} ` +
		    `decode_tps ${(t.en * 1000 / t.e).toFixed(2)} ` +
		    `wall_prefill_tps ${(opt.prompt * 1000 / wp).toFixed(2)} ` +
		    `wall_decode_tps ${(n * 1000 / wd).toFixed(2)} ` +
		    `decode_cpus ${((cpu.user + cpu.system) / 1000 / wd).toFixed(2)}`);
}
await model.dispose();
await llama.dispose();
