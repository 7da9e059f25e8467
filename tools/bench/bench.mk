# SPDX-License-Identifier: GPL-2.0
#
# bitnet-bench: `kernels`, `batch` (compute core), `head`, `e2e`, `serve`
# (engine). The engine fragment sets BENCH_E2E_LIBS to what bench_e2e.c needs, e.g.
# $(ENGINE_LIB) $(BUILD)/lib/libbitnet-dev.a $(ENGINE_LDLIBS).

BENCH_E2E_LIBS	?=
BENCH_BIN	:= $(BUILD)/bin/bitnet-bench
BENCH_SRCS	:= tools/bench/main.c tools/bench/bench_kernels.c \
		   tools/bench/bench_ref.c tools/bench/bench_e2e.c \
		   tools/bench/bench_measure.c tools/bench/bench_serve.c \
		   tools/bench/bench_batch.c tools/bench/bench_head.c tools/opts.c
BENCH_OBJS	:= $(BENCH_SRCS:%.c=$(BUILD)/obj/%.o)
BINS		+= $(BENCH_BIN)

# The FP32/FP16 baselines are AVX-512 (F16C for the halves); they are only
# called when the CPU has them.
CFLAGS_tools_bench_bench_ref := -mavx512f -mf16c -mfma

$(BENCH_BIN): $(BENCH_OBJS) $(CORE_LIB) $(filter %.a,$(BENCH_E2E_LIBS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(BENCH_OBJS) $(BENCH_E2E_LIBS) \
		$(CORE_LIB) $(CORE_LDLIBS) -lm

# bitnet-bench completes on a tiny model (e2e short prompts, serve); no
# figure is asserted.
CHECK_PROGS	+= $(SRC)/tests/integration/bench/test-bench.sh \
		   $(SRC)/tests/integration/bench/test-tool-options.sh
CHECK_DEPS	+= $(BENCH_BIN)

# make bench-peer: this engine against llama.cpp (node-llama-cpp's prebuilt
# CPU binaries from the npm registry, installed into BITNET_PEER_CACHE,
# default /var/tmp/bitnet-peer) on the same 2B-4T-shape TQ2_0 + Q6_K file,
# runs interleaved. BENCH_PEER_ARGS go to tools/bench/bench-peer.sh (see its
# --help); exit 77 from it (llama.cpp cannot run here) is a skip, not an error.
BENCH_PEER_ARGS	?=
.PHONY: bench-peer
bench-peer: $(BENCH_BIN) $(BUILD)/bin/bitnet-mkmodel
	@BITNET_BIN=$(abspath $(BUILD))/bin $(SRC)/tools/bench/bench-peer.sh \
		$(BENCH_PEER_ARGS) || test $$? -eq 77

# The peer benchmark's own parts without network: --help, the tiny model
# both engines load, the Node script's syntax and usage.
CHECK_PROGS	+= $(SRC)/tests/integration/bench/test-bench-peer.sh
