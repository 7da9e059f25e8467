# SPDX-License-Identifier: GPL-2.0
#
# bitnetd, the D-Bus service, and its unit tests. Needs libsystemd-dev.

# Layers, top to bottom (tests/style/run-include-graph.sh keeps them a DAG):
#   main.c
#   manager-bus.c model-bus.c session-bus.c	 the sd-bus objects
#   manager.c					 the daemon's top object
#   scheduler.c					 continuous batching
#   request.c session.c model.c		 the objects
#   wakeup.c polkit.c bus-util.c errors.c log.c config.c params.c
#   (list.h, bus-names.h, time-util.h: header only)
BITNETD_SRCS	:= daemon/bitnetd/main.c \
		   daemon/bitnetd/manager-bus.c daemon/bitnetd/model-bus.c \
		   daemon/bitnetd/session-bus.c daemon/bitnetd/manager.c \
		   daemon/bitnetd/scheduler.c daemon/bitnetd/request.c \
		   daemon/bitnetd/session.c daemon/bitnetd/model.c \
		   daemon/bitnetd/wakeup.c daemon/bitnetd/polkit.c daemon/bitnetd/bus-util.c \
		   daemon/bitnetd/errors.c daemon/bitnetd/log.c daemon/bitnetd/config.c \
		   daemon/bitnetd/params.c
BITNETD_OBJS	:= $(BITNETD_SRCS:%.c=$(BUILD)/obj/%.o)
# libbitnet-dev.a and -core.a come from other fragments (included earlier)
BITNETD_LIBS	:= $(BUILD)/lib/libbitnet-engine.a \
		   $(filter %/libbitnet-dev.a %/libbitnet-core.a,$(LIBS))
SYSTEMD_LIBS	= $(shell pkg-config --libs libsystemd)
# Like the engine's programs, bitnetd links the kmod backend: only offered
# once it exists in the tree (the integration tests SKIP without bitnetd).
ifneq ($(wildcard daemon/engine/backend/backend_kmod.c),)
BINS		+= $(BUILD)/bin/bitnetd
CHECK_DEPS	+= $(BUILD)/bin/bitnetd
endif

$(BUILD)/bin/bitnetd: $(BITNETD_OBJS) $(BITNETD_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(BITNETD_OBJS) $(BITNETD_LIBS) $(ENGINE_LDLIBS) \
		$(SYSTEMD_LIBS) -lpthread -lm

# Unit tests: configuration (no engine), and the objects below the bus
# (model loading, sessions' KV caches under a budget). Stop strings are the
# engine's generator's: tests/unit/engine/test_stop.c.
BITNETD_UNIT	:= $(BUILD)/tests/daemon/test-bitnetd-config \
		   $(BUILD)/tests/daemon/test-bitnetd-objects
CHECK_PROGS	+= $(BITNETD_UNIT)
CHECK_DEPS	+= $(BITNETD_UNIT)

$(BUILD)/tests/daemon/test-bitnetd-config: $(BUILD)/obj/tests/unit/daemon/test_config.o \
		$(BUILD)/obj/daemon/bitnetd/config.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

# The layers above stay a DAG: no include circle among bitnetd's files, and
# no libdev header (the device is the engine's business); the engine's parts
# form a DAG too and keep their private headers to themselves.
CHECK_PROGS	+= $(SRC)/tests/style/run-include-graph.sh

BITNETD_OBJECTS	:= model session wakeup log
$(BUILD)/tests/daemon/test-bitnetd-objects: $(BUILD)/obj/tests/unit/daemon/test_objects.o \
		$(BITNETD_OBJECTS:%=$(BUILD)/obj/daemon/bitnetd/%.o) $(BITNETD_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(ENGINE_LDLIBS) $(SYSTEMD_LIBS) -lpthread -lm

# Integration tests: a real dbus-daemon on a private bus (python3-dbus).
CHECK_PROGS	+= $(SRC)/tests/integration/daemon/test-bitnetd.py \
		   $(SRC)/tests/integration/daemon/test-bus-policy.py \
		   $(SRC)/tests/integration/daemon/test-unit-security.sh

# Continuous-batching benchmark (not part of check): aggregate decode tokens/s
# with 1, 2, 4, 8 sessions as ratios to 1, and the latency batching adds.
#   make bench-daemon BENCH_MODEL=/path/to/2b-shape.gguf [BENCH_TOKENS=32]
# (bitnet-mkmodel OUT.gguf writes a model of the 2B-4T shape.)
BENCH_TOKENS	?= 32
.PHONY: bench-daemon
bench-daemon: $(BUILD)/bin/bitnetd
	@test -n "$(BENCH_MODEL)" || { echo "bench-daemon: set BENCH_MODEL=FILE.gguf"; exit 2; }
	BUILD=$(abspath $(BUILD)) SRC=$(SRC) \
		tests/integration/daemon/bench-batching.py $(BENCH_MODEL) --tokens $(BENCH_TOKENS)
