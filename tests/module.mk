# tests/: unit tests and fuzzers are declared by each program folder's module.mk
# (by file name prefix).  Here: test tools (tests/tools/*.c -> $(BUILD)/tools/NAME)
# and benchmark programs (tests/bench/bench_*.c -> $(BUILD)/bench/NAME), each
# linked with every library.
ALL_LIBS := $(PROXY_LIB) $(POL_LIB) $(RECPROTO_LIB) $(TRANSCRIPT_LIB) $(COMMON_LIB)
TOOLS :=
define tool_rule
TOOLS += $(BUILD)/$(2)/$(1)
$(BUILD)/$(2)/$(1): $(BUILD)/obj/tests/$(2)/$(1).o $(ALL_LIBS)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach t,$(basename $(notdir $(wildcard tests/tools/*.c))),$(eval $(call tool_rule,$(t),tools)))
$(foreach t,$(basename $(notdir $(wildcard tests/bench/bench_*.c))),$(eval $(call tool_rule,$(t),bench)))
BENCHES += $(filter $(BUILD)/bench/%,$(TOOLS))
# pol-argv-trace, libc only, stands in for external commands in tests/diff/.
# Linked statically (but under the sanitizers, which need the dynamic
# loader): bash_diff.py executes it once per external command of ~12,600
# runs, and a dynamic one costs ~30 more page faults per exec (ld.so, libc).
TOOLS += $(BUILD)/tools/pol-argv-trace
$(BUILD)/tools/pol-argv-trace: $(BUILD)/obj/tests/diff/argv_trace.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $(if $(filter 1,$(SAN)),,-static) -o $@ $^
tools: $(filter $(BUILD)/tools/%,$(TOOLS))
.PHONY: tools

# Differential test of the command-line parser against bash (tests/diff/):
# pol-parse-dump prints the parse (and the rendered line once policy/ defines
# pol_render); pol-argv-trace, libc only, stands in for external commands.
POL_RENDER_SRC := $(shell grep -lsP '^pol_render\s*\x28' policy/*.c)
ifneq ($(POL_RENDER_SRC),)
$(BUILD)/obj/tests/tools/pol-parse-dump.o: CPPFLAGS += -DPOL_HAVE_RENDER
endif
# make diff-long: the differential test on the corpus plus DIFF_LINES lines
# generated with DIFF_SEED (bounded by DIFF_BUDGET seconds of bash time).
# make diff-corpus: rebuilds tests/diff/corpus/ (deterministic).
DIFF_LINES  ?= 20000
DIFF_SEED   ?= 1
DIFF_BUDGET ?= 1800
diff-long: tools
	ESCORT_TOOLS=$(BUILD)/tools python3 tests/diff/bash_diff.py --random $(DIFF_LINES) \
	    --seed $(DIFF_SEED) --budget $(DIFF_BUDGET) --json $(BUILD)/diff-long.json
diff-corpus:
	python3 tests/diff/gen_corpus.py
.PHONY: diff-long diff-corpus
