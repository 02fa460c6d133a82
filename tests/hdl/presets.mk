# RTL lint of the whole decoder at the shapes of the bigger presets
# (included by the main Makefile; not part of `make test`: emitting 110m
# alone writes ~300 MB of images).
#
# `make lint-presets`: for each of LINT_PRESETS, `llamagen --config NAME -o
# DIR` (synthetic weights), then tools/lint_rtl.sh on every file of files.f:
# verilator -Wall, iverilog, yosys synth + check -assert (no latches, RAMs
# stay memories), the lexical float/divider check. The three presets that
# hold more than 268 M weights (tinyllama-1.1b, llama2-7b, llama3-8b) are
# refused by the emitter (on-chip weights only, see README), so they have no
# RTL to lint yet.
#
# Why the images are trimmed for yosys: yosys spends minutes and gigabytes
# parsing a 30 MB $readmemh image (the 15m embedding) while nothing it checks
# depends on the words' values, only on the memory's shape, which is in the
# RTL. So yosys runs on a copy of the output whose .hex files keep their
# banner and their first 64 words (enough that the ROMs stay initialized
# memories rather than being optimized away as all-x). The images themselves
# are checked elsewhere (tests/test_wmem_image.c, the co-simulations).
# LINT_PRESETS_MODE: --coarse (default) stops yosys after the coarse synth,
# where latches and memories are decided (about 10x faster; the full flow
# on 15m took 20 min on 2 busy cores); LINT_PRESETS_MODE= runs the full flow.

LINT_PRESETS ?= 15m 42m 110m
LINT_PRESETS_MODE ?= --coarse
LINT_PRESETS_DIR := $(BUILD)/lint-presets

.PHONY: lint-presets
## lint-presets: RTL lint (coarse yosys) of the decoder emitted for 15m, 42m and 110m (long: emits ~500 MB, about 10 min on 2 cores)
lint-presets: $(CLI)
	@set -e; for p in $(LINT_PRESETS); do \
	  d=$(LINT_PRESETS_DIR)/$$p; t=$(LINT_PRESETS_DIR)/$$p.trim; \
	  echo "== $$p: emit"; \
	  $(CLI) --config $$p -o $$d; \
	  rm -rf $$t; mkdir -p $$t; \
	  for f in $$d/*; do case $$f in \
	    *.hex) { grep '^//' $$f; grep -v '^//' $$f | head -64; } > $$t/$${f##*/};; \
	    *) cp $$f $$t/;; esac; done; \
	  echo "== $$p: lint ($$(wc -l < $$d/files.f) files)"; \
	  (cd $$t && $(abspath tools/lint_rtl.sh) $(LINT_PRESETS_MODE) $$(cat files.f)); \
	  rm -rf $$t; \
	done; echo "lint-presets: $(LINT_PRESETS): every file clean"

lint: lint-presets
