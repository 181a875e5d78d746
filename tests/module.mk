# tests/: unit tests and fuzzers are declared by each program folder's module.mk
# (by file name prefix).  Here: test tools (tests/tools/*.c -> $(BUILD)/tools/NAME)
# and benchmark programs (tests/bench/bench_*.c -> $(BUILD)/bench/NAME), each
# linked with every library.
ALL_LIBS := $(PROXY_LIB) $(POL_LIB) $(REC_LIB)
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
tools: $(filter $(BUILD)/tools/%,$(TOOLS))
.PHONY: tools
