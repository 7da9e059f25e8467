# SPDX-License-Identifier: GPL-2.0
#
# bitnet-bench: `kernels` (compute core) and `e2e` (engine). The engine
# fragment sets BENCH_E2E_LIBS to what bench_e2e.c needs, e.g.
# $(ENGINE_LIB) $(BUILD)/lib/libbitnet-dev.a $(ENGINE_LDLIBS).

BENCH_E2E_LIBS	?=
BENCH_BIN	:= $(BUILD)/bin/bitnet-bench
BENCH_SRCS	:= tools/bench/main.c tools/bench/bench_kernels.c \
		   tools/bench/bench_ref.c tools/bench/bench_e2e.c \
		   tools/bench/bench_measure.c tools/bench/bench_serve.c \
		   tools/bench/bench_batch.c tools/opts.c
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
