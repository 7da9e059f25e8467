# SPDX-License-Identifier: GPL-2.0
#
# Style checks (Linux kernel coding style, 100 columns):
#   make format-check	clang-format --dry-run over the tree's *.c/*.h; lists
#			the files it would change. Advice only: clang-format 14
#			cannot keep kernel-style tab-aligned tables (see
#			.clang-format), so this is not part of `make check`.
#   make checkpatch	the kernel's scripts/checkpatch.pl (from Debian's
#			linux-source-6.12 tarball, see mk/module.mk) at normal
#			strictness over kmod/ and uapi/; fails on any ERROR or
#			WARNING. tests/style/ runs the same as a TAP test.
#   make sparse		bitnet.ko built through kbuild with C=2 CHECK=sparse.

CLANG_FORMAT	?= clang-format
# Files git knows or would add (so new files count before their commit).
STYLE_FILES	= $(shell { git ls-files --cached --others --exclude-standard -- '*.c' '*.h' \
			2>/dev/null || find . -name '*.[ch]' -not -path './build*'; } | sort -u)
CHECKPATCH_FILES = $(shell find kmod uapi -name '*.[ch]' 2>/dev/null | sort)
CHECKPATCH_FLAGS := --no-tree -f --show-types --max-line-length=100

# tests/style/run-checkpatch.sh needs the script extracted.
CHECK_DEPS	+= $(CHECKPATCH)

.PHONY: format-check checkpatch sparse
format-check:
	@bad=0; \
	for f in $(STYLE_FILES); do \
		[ -f "$$f" ] || continue; \
		if ! $(CLANG_FORMAT) --dry-run -Werror "$$f" >/dev/null 2>&1; then \
			n=$$($(CLANG_FORMAT) "$$f" | diff "$$f" - | grep -c '^<'); \
			echo "format-check: $$f ($$n lines would change)"; \
			bad=$$((bad + 1)); \
		fi; \
	done; \
	echo "format-check: $$bad of $(words $(STYLE_FILES)) files differ from .clang-format"; \
	[ $$bad -eq 0 ]

checkpatch: $(CHECKPATCH)
	@perl $(CHECKPATCH) $(CHECKPATCH_FLAGS) $(CHECKPATCH_FILES) && \
		echo "checkpatch: $(words $(CHECKPATCH_FILES)) files clean"

sparse:
	$(MAKE) module MODULE_KBUILD_FLAGS='C=2 CHECK=sparse'
