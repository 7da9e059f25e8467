# SPDX-License-Identifier: GPL-2.0
#
# libbitnet-client: shared library (soname libbitnet-client.so.1, exporting
# what its header declares, listed in the version script), static library,
# and an uninstalled pkg-config file for
# the build tree. The install rules substitute the .pc.in placeholders.

CLIENT_VERSION	:= $(BITNET_VERSION)
CLIENT_SONAME	:= libbitnet-client.so.1
CLIENT_SRCS	:= libclient/client.c libclient/props.c libclient/manager.c \
		   libclient/params.c libclient/session.c libclient/blocking.c
CLIENT_OBJS	:= $(CLIENT_SRCS:%.c=$(BUILD)/obj/%.o)
CLIENT_SO	:= $(BUILD)/lib/libbitnet-client.so.$(CLIENT_VERSION)
CLIENT_A	:= $(BUILD)/lib/libbitnet-client.a
CLIENT_PC	:= $(BUILD)/lib/pkgconfig/bitnet-client.pc
CLIENT_LDLIBS	:= -lsystemd
LIBS		+= $(CLIENT_SO) $(BUILD)/lib/$(CLIENT_SONAME) \
		   $(BUILD)/lib/libbitnet-client.so $(CLIENT_A) $(CLIENT_PC)

$(CLIENT_SO): $(CLIENT_OBJS) libclient/libbitnet-client.sym
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,$(CLIENT_SONAME) \
		-Wl,--version-script=libclient/libbitnet-client.sym -Wl,--no-undefined \
		$(LDFLAGS) -o $@ $(CLIENT_OBJS) $(CLIENT_LDLIBS)

$(BUILD)/lib/$(CLIENT_SONAME) $(BUILD)/lib/libbitnet-client.so: $(CLIENT_SO)
	ln -sf $(notdir $<) $@

$(CLIENT_A): $(CLIENT_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# Uninstalled: headers from the source tree, libraries from $(BUILD)/lib.
$(CLIENT_PC): libclient/bitnet-client.pc.in Makefile
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(abspath $(BUILD))|' -e 's|@LIBDIR@|$(abspath $(BUILD))/lib|' \
	    -e 's|@INCLUDEDIR@|$(SRC)/libclient/include|' \
	    -e 's|@VERSION@|$(CLIENT_VERSION)|' $< > $@

# The README's example, built through the uninstalled pkg-config file.
CLIENT_EXAMPLE	:= $(BUILD)/tests/client/bitnet-example
CHECK_DEPS	+= $(CLIENT_EXAMPLE)

$(CLIENT_EXAMPLE): libclient/examples/example.c $(CLIENT_PC) $(BUILD)/lib/libbitnet-client.so \
		   $(BUILD)/lib/$(CLIENT_SONAME)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< \
		$$(PKG_CONFIG_PATH=$(abspath $(BUILD))/lib/pkgconfig pkg-config --cflags \
		--libs bitnet-client) -Wl,-rpath,$(abspath $(BUILD))/lib $(LDFLAGS)

# Tests against a daemon on a private bus (tests/integration/client/).
CLIENT_TEST_LIB	:= $(BUILD)/tests/client/test-libclient
CHECK_DEPS	+= $(CLIENT_TEST_LIB)
CHECK_PROGS	+= $(SRC)/tests/unit/client/run-exports-test.sh \
		   $(SRC)/tests/integration/client/test-client-mock \
		   $(SRC)/tests/integration/client/test-client.py

$(CLIENT_TEST_LIB): $(BUILD)/obj/tests/integration/client/test-libclient.o \
		    $(BUILD)/lib/libbitnet-client.so $(BUILD)/lib/$(CLIENT_SONAME)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< -L$(BUILD)/lib -lbitnet-client \
		-Wl,-rpath,$(abspath $(BUILD))/lib $(CLIENT_LDLIBS)

# mock-bitnetd.py (test-client-mock) runs on python3-dbus with GLib's loop.
DEPS_EXTRA	+= python3-gi
