# recorder/: libescort-recorder (transcript format, integrity, wire protocol,
# sender) + escort-recorder.  Library = every recorder/*.c but main.c.
# Unit tests tests/unit/test_rec_*.c and fuzzers tests/fuzz/fuzz_rec_*.c are
# picked up by name.
REC_LIB_SRC := $(filter-out recorder/main.c,$(wildcard recorder/*.c))
REC_LIB     := $(BUILD)/libescort-recorder.a
$(eval $(call lib_rule,escort-recorder,$(REC_LIB_SRC)))
$(eval $(call program,escort-recorder,$(BUILD)/obj/recorder/main.o $(REC_LIB) $(COMMON_LIB)))
$(foreach t,$(basename $(notdir $(wildcard tests/unit/test_rec_*.c))),\
  $(eval $(call unit_test,$(t),$(REC_LIB) $(COMMON_LIB))))
$(foreach t,$(basename $(notdir $(wildcard tests/fuzz/fuzz_rec_*.c))),\
  $(eval $(call fuzz_target,$(t),$(REC_LIB_SRC) $(COMMON_LIB_SRC))))
