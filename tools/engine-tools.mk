# SPDX-License-Identifier: GPL-2.0
#
# The engine's programs (bitnet-run, bitnet-mkmodel) and tests; included
# from daemon/daemon.mk after the engine library.

ENGINE_LINK_DEPS = $(BUILD)/lib/libbitnet-engine.a \
		  $(filter %/libbitnet-dev.a,$(LIBS)) $(BUILD)/lib/libbitnet-core.a
ENGINE_LINK	= $(ENGINE_LINK_DEPS) $(ENGINE_LDLIBS) -lpthread -lm

BINS		+= $(BUILD)/bin/bitnet-run $(BUILD)/bin/bitnet-mkmodel

# --attach asks bitnetd for a model's weights through libbitnet-client.
RUN_OBJS	:= $(BUILD)/obj/tools/run/run.o $(BUILD)/obj/tools/run/attach.o

$(BUILD)/bin/bitnet-run: $(RUN_OBJS) $(ENGINE_LINK_DEPS) $(BUILD)/lib/libbitnet-client.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(RUN_OBJS) $(BUILD)/lib/libbitnet-client.a -lsystemd \
		$(ENGINE_LINK)

MKMODEL_OBJS	:= $(BUILD)/obj/tools/mkmodel/mkmodel.o $(BUILD)/obj/tools/mkmodel/requant.o \
		   $(BUILD)/obj/tools/mkmodel/vocab_bpe.o $(BUILD)/obj/tools/opts.o

$(BUILD)/bin/bitnet-mkmodel: $(MKMODEL_OBJS) $(ENGINE_LINK_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(MKMODEL_OBJS) $(ENGINE_LINK)

# bitnet-bench's e2e part links the engine.
BENCH_E2E_LIBS	= $(ENGINE_LINK)

# Unit tests of the engine (no model files needed) and the exactness tests
# against ../shared/models.
ENGINE_TESTS	:= $(BUILD)/tests/engine/test-sampler $(BUILD)/tests/engine/test-model \
		   $(BUILD)/tests/engine/test-head $(BUILD)/tests/engine/test-attention \
		   $(BUILD)/tests/engine/test-kquant $(BUILD)/tests/engine/test-headsimd \
		   $(BUILD)/tests/engine/test-headfmt $(BUILD)/tests/engine/test-llama \
		   $(BUILD)/tests/engine/test-stop $(BUILD)/tests/engine/test-gen \
		   $(BUILD)/tests/engine/test-norm \
		   $(BUILD)/tests/exact/test-exact $(BUILD)/tests/exact/test-run-cli
CHECK_PROGS	+= $(ENGINE_TESTS)
CHECK_DEPS	+= $(ENGINE_TESTS) $(BUILD)/bin/bitnet-run $(BUILD)/bin/bitnet-mkmodel

$(BUILD)/tests/engine/test-%: $(BUILD)/obj/tests/unit/engine/test_%.o $(ENGINE_LINK_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(ENGINE_LINK)

$(BUILD)/tests/exact/test-exact: $(BUILD)/obj/tests/exact/test_exact.o $(ENGINE_LINK_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(ENGINE_LINK) -ljson-c

$(BUILD)/tests/exact/test-run-cli: $(BUILD)/obj/tests/exact/test_run_cli.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< -ljson-c -lm
