# SPDX-License-Identifier: GPL-2.0
#
# Style checks (Linux kernel coding style, 100 columns):
#   make format-check	clang-format over userspace C (all but kmod/ and uapi/),
#			one result per file; part of `make check`.
#   make format		rewrites those files as .clang-format says.
#   make checkpatch	the kernel's scripts/checkpatch.pl (from Debian's
#			linux-source-6.12 tarball, see mk/module.mk) at normal
#			strictness over kmod/ and uapi/; fails on any ERROR or
#			WARNING. tests/style/ runs the same as a TAP test.
#   make sparse		bitnet.ko built through kbuild with C=2 CHECK=sparse.

CLANG_FORMAT	?= clang-format
CHECKPATCH_FILES = $(shell find kmod uapi -name '*.[ch]' 2>/dev/null | sort)
CHECKPATCH_FLAGS := --no-tree -f --show-types --max-line-length=100

# tests/style/run-checkpatch.sh needs the script extracted.
CHECK_DEPS	+= $(CHECKPATCH)

.PHONY: format-check format checkpatch sparse
format-check:
	@out=$$(CLANG_FORMAT=$(CLANG_FORMAT) tests/style/run-clang-format.sh); \
		echo "$$out" | grep -v '^ok'; ! echo "$$out" | grep -q '^not ok'

format:
	@CLANG_FORMAT=$(CLANG_FORMAT) tests/style/run-clang-format.sh --fix

checkpatch: $(CHECKPATCH)
	@perl $(CHECKPATCH) $(CHECKPATCH_FLAGS) $(CHECKPATCH_FILES) && \
		echo "checkpatch: $(words $(CHECKPATCH_FILES)) files clean"

sparse:
	$(MAKE) module MODULE_KBUILD_FLAGS='C=2 CHECK=sparse'
